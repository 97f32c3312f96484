"""LanceVectorIndex on a temporary directory, with random numpy vectors (no model)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from lexi_pipelines.vectors.index import IndexSpec, VectorIndexError, VectorRecord
from lexi_pipelines.vectors.lance_index import AnnParams, LanceVectorIndex

DIM = 16
SPEC = IndexSpec(
    name="products",
    dimension=DIM,
    metadata_fields={"brand": "string", "price": "float", "stock": "int", "active": "bool"},
)
HYBRID = IndexSpec(name="chunks", dimension=DIM, metadata_fields={"doc": "string"}, hybrid=True)
BRANDS = ["acme", "globex", "initech", "o'reilly"]


def unit(rng: np.random.Generator, n: int, dim: int = DIM) -> npt.NDArray[np.float32]:
    v = rng.standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def records(
    vectors: npt.NDArray[np.float32], prefix: str = "r", start: int = 0
) -> list[VectorRecord]:
    return [
        VectorRecord(
            id=f"{prefix}{start + i}",
            vector=v,
            metadata={
                "brand": BRANDS[(start + i) % len(BRANDS)],
                "price": float(start + i),
                "stock": (start + i) % 3,
                "active": (start + i) % 2 == 0,
                "note": f"free-form {start + i}",
            },
        )
        for i, v in enumerate(vectors)
    ]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


@pytest.fixture
def index(tmp_path: Path) -> Iterator[LanceVectorIndex]:
    idx = LanceVectorIndex(tmp_path / "vectors", SPEC)
    yield idx
    idx.close()


def test_upsert_replace_and_idempotency(index: LanceVectorIndex, rng: np.random.Generator) -> None:
    vecs = unit(rng, 50)
    assert index.upsert("ns", records(vecs)) == 50
    assert index.upsert("ns", records(vecs)) == 50
    assert index.count("ns") == 50
    before = index.fetch("ns", [f"r{i}" for i in range(50)])

    # Replacing one record changes its vector and metadata, nothing else.
    new_vec = unit(rng, 1)[0]
    index.upsert("ns", [VectorRecord(id="r3", vector=new_vec, metadata={"brand": "zeta"})])
    assert index.count("ns") == 50
    after = index.fetch("ns", [f"r{i}" for i in range(50)])
    assert after["r3"] == {"brand": "zeta"}
    assert {k: v for k, v in after.items() if k != "r3"} == {
        k: v for k, v in before.items() if k != "r3"
    }
    top = index.query("ns", new_vec, top_k=1)
    assert top[0].id == "r3"
    assert top[0].score == pytest.approx(1.0, abs=1e-5)
    # Duplicate ids inside one batch: the last one wins.
    fresh = unit(rng, 2)
    dup = [VectorRecord(id="d", vector=fresh[0]), VectorRecord(id="d", vector=fresh[1])]
    assert index.upsert("ns", dup) == 1
    assert index.query("ns", fresh[1], top_k=1)[0].id == "d"
    assert index.count("ns") == 51


def test_namespaces_are_isolated(index: LanceVectorIndex, rng: np.random.Generator) -> None:
    vecs = unit(rng, 10)
    index.upsert("a", records(vecs))
    index.upsert("b", records(vecs[:4]))
    assert (index.count("a"), index.count("b"), index.count("c")) == (10, 4, 0)
    assert {m.id for m in index.query("b", vecs[8], top_k=10)} == {"r0", "r1", "r2", "r3"}
    assert index.query("c", vecs[0]) == []
    index.delete_namespace("b")
    assert (index.count("a"), index.count("b")) == (10, 0)
    assert index.stats()["namespaces"] == {"a": 10}
    # Namespace names are data too: a quote cannot widen the filter.
    assert index.count("a' OR '1'='1") == 0


def test_filters(index: LanceVectorIndex, rng: np.random.Generator) -> None:
    vecs = unit(rng, 40)
    index.upsert("ns", records(vecs))
    q = vecs[0]
    hits = index.query("ns", q, top_k=40, where={"brand": "globex"})
    assert len(hits) == 10 and all(h.metadata["brand"] == "globex" for h in hits)
    hits = index.query("ns", q, top_k=40, where={"brand": ["acme", "initech"]})
    assert len(hits) == 20 and {h.metadata["brand"] for h in hits} == {"acme", "initech"}
    # A value holding a quote is matched literally.
    hits = index.query("ns", q, top_k=40, where={"brand": "o'reilly"})
    assert len(hits) == 10 and all(h.metadata["brand"] == "o'reilly" for h in hits)
    assert index.query("ns", q, where={"brand": "x' OR '1'='1"}) == []
    hits = index.query("ns", q, top_k=40, where={"active": True, "stock": [0, 1]})
    assert hits and all(h.metadata["active"] and h.metadata["stock"] in (0, 1) for h in hits)
    assert len(index.query("ns", q, top_k=40, where={"price": 5.0})) == 1
    assert index.query("ns", q, where={"brand": []}) == []
    # top_k is honoured under a filter: k matches exist, k come back.
    assert len(index.query("ns", q, top_k=5, where={"brand": "acme"})) == 5
    with pytest.raises(VectorIndexError, match="not a filterable field"):
        index.query("ns", q, where={"note": "x"})
    with pytest.raises(VectorIndexError, match="expected a number"):
        index.query("ns", q, where={"price": "5"})


def test_hybrid_finds_exact_keyword(tmp_path: Path, rng: np.random.Generator) -> None:
    index = LanceVectorIndex(tmp_path, HYBRID)
    vecs = unit(rng, 60)
    words = ["tent", "stove", "lantern", "backpack", "sleeping bag", "compass"]
    recs = [
        VectorRecord(
            id=f"c{i}",
            vector=v,
            metadata={"doc": f"d{i % 3}"},
            text=f"a {words[i % len(words)]} for camping, item {i}",
        )
        for i, v in enumerate(vecs)
    ]
    recs[42] = VectorRecord(
        id="c42", vector=vecs[42], metadata={"doc": "d0"}, text="warranty clause XK-42b applies"
    )
    index.upsert("ns", recs)
    index.upsert("other", [VectorRecord(id="o1", vector=vecs[0], text="warranty XK-42b")])
    far = unit(rng, 1)[0]  # unrelated to c42's vector: only the text can find it
    hits = index.query("ns", far, top_k=5, text="XK-42b warranty", alpha=0.3)
    assert hits[0].id == "c42"
    assert hits[0].metadata == {"doc": "d0"}
    assert all(h.id != "o1" for h in hits)
    assert "c42" in {h.id for h in index.query("ns", far, top_k=5, text="xk-42b", alpha=0.5)}
    # alpha=1 is purely dense; filters apply to the text side as well.
    assert index.query("ns", far, top_k=5, text="xk-42b", alpha=1.0) == index.query(
        "ns", far, top_k=5
    )
    assert index.query("ns", far, top_k=3, text="xk-42b", where={"doc": "d1"}, alpha=0.0) == []
    # Rows written after the text index was built are searchable at once.
    index.upsert("ns", [VectorRecord(id="late", vector=vecs[1], text="zebra-striped lantern")])
    assert index.query("ns", far, top_k=1, text="zebra", alpha=0.0)[0].id == "late"
    index.close()


def test_text_on_dense_index_is_refused(index: LanceVectorIndex, rng: np.random.Generator) -> None:
    with pytest.raises(VectorIndexError, match="not hybrid"):
        index.query("ns", unit(rng, 1)[0], text="tent")


def test_deletes(index: LanceVectorIndex, rng: np.random.Generator) -> None:
    vecs = unit(rng, 40)
    index.upsert("ns", records(vecs))
    index.upsert("keep", records(vecs[:8]))
    assert index.delete("ns", ["r0", "r1", "missing", "r1"]) == 4
    assert index.count("ns") == 38
    index.delete_where("ns", {"brand": "o'reilly"})
    assert index.count("ns") == 28  # ten o'reilly rows, none among r0/r1
    assert index.fetch("ns", ["r3", "r7", "r2"]).keys() == {"r2"}
    index.delete_where("ns", {"brand": ["acme", "globex"], "active": True})
    assert all(
        not (m["brand"] in ("acme", "globex") and m["active"])
        for m in index.fetch("ns", [f"r{i}" for i in range(40)]).values()
    )
    with pytest.raises(VectorIndexError, match="delete_namespace"):
        index.delete_where("ns", {})
    # Big id lists go out in batches.
    assert index.delete("ns", [f"r{i}" for i in range(2_500)]) == 2_500
    assert index.count("ns") == 0
    assert index.count("keep") == 8


def test_fetch_count_stats(index: LanceVectorIndex, rng: np.random.Generator) -> None:
    stored = unit(rng, 12)
    index.upsert("a", records(stored))
    index.upsert("", records(unit(rng, 3)))
    got = index.fetch("a", ["r1", "r11", "nope"])
    assert set(got) == {"r1", "r11"}
    assert got["r1"] == {
        "brand": "globex",
        "price": 1.0,
        "stock": 1,
        "active": False,
        "note": "free-form 1",
    }
    assert index.fetch("a", []) == {}
    vectors = index.fetch_vectors("a", ["r2", "nope"])
    assert set(vectors) == {"r2"}
    assert vectors["r2"].dtype == np.float32
    np.testing.assert_array_equal(vectors["r2"], stored[2])
    assert index.fetch_vectors("", ["r2"]).keys() == {"r2"}
    assert index.fetch_vectors("zz", ["r2"]) == {}
    stats = index.stats()
    assert stats["backend"] == "lancedb"
    assert (stats["name"], stats["dimension"], stats["metric"]) == ("products", DIM, "cosine")
    assert stats["namespaces"] == {"a": 12, "": 3}
    assert stats["total_count"] == 15
    assert stats["ann_index"] is None


def test_persistence_across_reopen(tmp_path: Path, rng: np.random.Generator) -> None:
    vecs = unit(rng, 20)
    first = LanceVectorIndex(tmp_path, SPEC)
    first.upsert("ns", records(vecs))
    # A second handle (another process, say) sees the writes of the first.
    second = LanceVectorIndex(tmp_path, SPEC)
    assert second.count("ns") == 20
    second.delete("ns", ["r0"])
    assert first.count("ns") == 19
    first.close()
    second.close()
    reopened = LanceVectorIndex(tmp_path, SPEC)
    assert reopened.count("ns") == 19
    assert reopened.query("ns", vecs[5], top_k=1)[0].id == "r5"


def test_dimension_mismatch(tmp_path: Path, rng: np.random.Generator) -> None:
    index = LanceVectorIndex(tmp_path, SPEC)
    with pytest.raises(VectorIndexError, match=r"shape \(8,\), expected \(16,\)"):
        index.upsert("ns", [VectorRecord(id="x", vector=unit(rng, 1, 8)[0])])
    with pytest.raises(VectorIndexError, match="dimension 8, expected 16"):
        index.query("ns", unit(rng, 1, 8)[0])
    with pytest.raises(VectorIndexError, match="zero or non-finite"):
        index.query("ns", np.zeros(DIM, np.float32))
    with pytest.raises(VectorIndexError, match="non-finite or zero"):
        index.upsert("ns", [VectorRecord(id="nan", vector=np.full(DIM, np.nan, np.float32))])
    with pytest.raises(VectorIndexError, match="stores dimension 16, spec says 32"):
        LanceVectorIndex(tmp_path, IndexSpec(name="products", dimension=32))
    with pytest.raises(VectorIndexError, match="must be float"):
        index.upsert(
            "ns", [VectorRecord(id="p", vector=unit(rng, 1)[0], metadata={"price": "cheap"})]
        )
    assert index.count("ns") == 0  # all or nothing


def test_self_retrieval(index: LanceVectorIndex, rng: np.random.Generator) -> None:
    vecs = unit(rng, 500)
    index.upsert("ns", records(vecs))
    for i in range(0, 500, 25):
        hit = index.query("ns", vecs[i], top_k=3)
        assert hit[0].id == f"r{i}"
        assert hit[0].score >= hit[1].score >= hit[2].score


def test_other_metrics_score_higher_is_better(tmp_path: Path, rng: np.random.Generator) -> None:
    vecs = unit(rng, 50)
    for metric in ("dotproduct", "euclidean"):
        spec = IndexSpec(name=f"m_{metric}", dimension=DIM, metric=metric)
        index = LanceVectorIndex(tmp_path, spec)
        index.upsert("ns", [VectorRecord(id=str(i), vector=v) for i, v in enumerate(vecs)])
        hits = index.query("ns", vecs[9], top_k=5)
        assert hits[0].id == "9"
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        with pytest.raises(VectorIndexError, match="metric"):
            LanceVectorIndex(tmp_path, IndexSpec(name=f"m_{metric}", dimension=DIM))


def test_ann_path_stays_correct(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    dim = 32
    spec = IndexSpec(name="ann", dimension=dim, metadata_fields={"brand": "string"})
    index = LanceVectorIndex(
        tmp_path, spec, ann_threshold=2_000, ann=AnnParams(exact_filter_rows=50)
    )
    vecs = unit(rng, 3_000, dim)
    index.upsert("ns", records(vecs))
    stats = index.stats()
    assert stats["ann_index"] is not None, "crossing the threshold builds the ANN index"
    assert stats["ann_index"]["type"] == "IVF_HNSW_SQ"
    for i in range(0, 3_000, 150):
        assert index.query("ns", vecs[i], top_k=5)[0].id == f"r{i}"

    # Rows written after indexing are found before any optimize (LanceDB scans them flat).
    late = unit(rng, 100, dim)
    index.upsert("ns", records(late, prefix="late"))
    assert index.stats()["ann_index"]["unindexed_rows"] == 100
    for i in range(0, 100, 10):
        assert index.query("ns", late[i], top_k=1)[0].id == f"late{i}"
    # Replaced and deleted rows are not served from stale index entries.
    moved = unit(rng, 1, dim)[0]
    index.upsert("ns", [VectorRecord(id="r10", vector=moved, metadata={"brand": "acme"})])
    assert index.query("ns", moved, top_k=1)[0].id == "r10"
    assert all(h.id != "r10" for h in index.query("ns", vecs[10], top_k=5))
    index.delete("ns", ["r20"])
    assert all(h.id != "r20" for h in index.query("ns", vecs[20], top_k=5))

    # Filtered ANN queries return k when k matches exist, selective or not.
    hits = index.query("ns", vecs[1], top_k=10, where={"brand": "globex"})
    assert len(hits) == 10 and hits[0].id == "r1"
    only = index.query("ns", vecs[0], top_k=10, where={"brand": "o'reilly"})
    assert len(only) == 10

    result = index.optimize()
    assert result["ann_index"] and index.stats()["ann_index"]["unindexed_rows"] == 0
    assert index.query("ns", late[3], top_k=1)[0].id == "late3"
    assert index.query("ns", moved, top_k=1)[0].id == "r10"
    assert index.count("ns") == 3_099
