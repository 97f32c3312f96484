"""PineconeVectorIndex through the real pinecone SDK against the loopback stand-in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from pinecone import Pinecone
from pinecone.errors.exceptions import ApiError

from lexi_pipelines.vectors.backends import BackendConfig, open_index
from lexi_pipelines.vectors.index import IndexSpec, SparseVector, VectorIndexError, VectorRecord
from lexi_pipelines.vectors.pinecone_index import (
    MAX_REQUEST_BYTES,
    Hit,
    PineconeTuning,
    PineconeVectorIndex,
    fuse_hybrid,
    plan_batches,
    to_pinecone_filter,
)
from lexi_pipelines_tests.vectors.pinecone_standin import (
    DOCUMENT_SCHEMA_WRITE,
    PineconeStandIn,
    documents_path,
)

DIM = 32
API_KEY = "test-key-123"
UPSERT = documents_path("catalog", "upsert")
SEARCH = documents_path("catalog", "search")
FETCH = documents_path("catalog", "fetch")
DELETE = documents_path("catalog", "delete")
SPEC = IndexSpec(
    name="products",
    dimension=DIM,
    metric="cosine",
    metadata_fields={"brand": "string", "category": "string", "price": "float"},
)
HYBRID = IndexSpec(name="chunks", dimension=DIM, metadata_fields={"doc": "string"}, hybrid=True)
BRANDS = ["acme", "globex", "initech"]
CATEGORIES = ["tents", "stoves", "lamps", "packs"]


class SleepRecorder:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def standin() -> Iterator[PineconeStandIn]:
    with PineconeStandIn(api_key=API_KEY, describes_until_ready=3) as server:
        yield server


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


def connect(
    standin: PineconeStandIn,
    spec: IndexSpec = SPEC,
    *,
    api_key: str = API_KEY,
    sleep: SleepRecorder | None = None,
    **tuning: Any,
) -> PineconeVectorIndex:
    fast: dict[str, Any] = {
        "ready_poll_s": 0.0,
        "max_retries": 3,
        "backoff_base_s": 0.01,
        "backoff_max_s": 0.5,
        "max_workers": 4,
    }
    return PineconeVectorIndex(
        api_key=api_key,
        spec=spec,
        control_host=standin.controller_url,
        cloud="gcp",
        region="europe-west4",
        tuning=PineconeTuning(**(fast | tuning)),
        sleep=sleep or SleepRecorder(),
    )


@pytest.fixture
def index(standin: PineconeStandIn, sleeps: SleepRecorder) -> Iterator[PineconeVectorIndex]:
    idx = connect(standin, sleep=sleeps)
    sleeps.delays.clear()  # drop the ready polls; tests look at retry delays only
    yield idx
    idx.close()


def rand(rng: np.random.Generator, n: int) -> npt.NDArray[np.float32]:
    return rng.standard_normal((n, DIM)).astype(np.float32)


def make_records(n: int, seed: int = 0, prefix: str = "p") -> list[VectorRecord]:
    rng = np.random.default_rng(seed)
    vectors = rand(rng, n)
    return [
        VectorRecord(
            id=f"{prefix}-{i:05d}",
            vector=vectors[i],
            metadata={
                "brand": BRANDS[i % 3],
                "category": CATEGORIES[i % 4],
                "price": float(i),
            },
        )
        for i in range(n)
    ]


def cosine_top(records: list[VectorRecord], query: npt.NDArray[np.float32], k: int) -> list[str]:
    matrix = np.stack([r.vector for r in records]).astype(np.float64)
    scores = matrix @ query / (np.linalg.norm(matrix, axis=1) * np.linalg.norm(query))
    return [records[i].id for i in np.argsort(-scores)[:k]]


def holds(vid: str) -> Any:
    return lambda body: any(d["_id"] == vid for d in body["documents"])


# -- pure helpers ---------------------------------------------------------------------------------


def test_filter_translation() -> None:
    assert to_pinecone_filter(None) is None
    assert to_pinecone_filter({"brand": "acme"}) == {"brand": {"$eq": "acme"}}
    assert to_pinecone_filter({"brand": "acme", "category": ["tents", "stoves"]}) == {
        "$and": [{"brand": {"$eq": "acme"}}, {"category": {"$in": ["tents", "stoves"]}}]
    }


def test_fuse_hybrid_is_a_convex_combination_of_min_max_scores() -> None:
    dense: list[Hit] = [("a", 0.9, {}), ("b", 0.5, {}), ("c", 0.1, {})]  # -> 1, 0.5, 0
    sparse: list[Hit] = [("c", 12.0, {}), ("d", 4.0, {})]  # -> 1, 0
    fused = fuse_hybrid(dense, sparse, 0.25, 10)
    scores = {vid: score for vid, score, _ in fused}
    assert scores == pytest.approx({"a": 0.25, "b": 0.125, "c": 0.75, "d": 0.0})
    assert [vid for vid, _, _ in fused] == ["c", "a", "b", "d"]
    assert [vid for vid, _, _ in fuse_hybrid(dense, sparse, 0.25, 2)] == ["c", "a"]
    # One-element list: its only entry is that list's best.
    assert fuse_hybrid([("x", 0.3, {})], [], 1.0, 5) == [("x", 1.0, {})]
    with pytest.raises(VectorIndexError):
        fuse_hybrid(dense, sparse, 1.5, 3)


def test_plan_batches_respects_count_and_bytes() -> None:
    assert plan_batches([10] * 5, envelope=2, max_records=2, max_bytes=1000) == [
        range(0, 2),
        range(2, 4),
        range(4, 5),
    ]
    # envelope 2 + 40 + 1 comma + 40 = 83 fits in 85; a third record would not.
    assert plan_batches([40, 40, 40], envelope=2, max_records=10, max_bytes=85) == [
        range(0, 2),
        range(2, 3),
    ]


# -- control plane --------------------------------------------------------------------------------


def test_creates_document_index_and_waits_until_ready(
    standin: PineconeStandIn, index: PineconeVectorIndex
) -> None:
    creates = standin.requests_to("/indexes", "POST")
    assert len(creates) == 1
    assert creates[0].body["name"] == "products"
    # Metadata fields are not declared: managed indexes refuse filter-only fields.
    assert creates[0].body["schema"] == {
        "fields": {"embedding": {"type": "dense_vector", "dimension": DIM, "metric": "cosine"}}
    }
    assert creates[0].body["deployment"] == {
        "deployment_type": "managed",
        "cloud": "gcp",
        "region": "europe-west4",
    }
    # 404, then describes until the stand-in reports ready on the third.
    describes = standin.requests_to("/indexes/products", "GET")
    assert [r.status for r in describes] == [404, 200, 200, 200]
    assert index.host.startswith("http://127.0.0.1:")
    index.upsert("catalog", make_records(3))
    for request in standin.requests:
        assert request.headers["api-key"] == API_KEY
        assert request.headers["x-pinecone-api-version"] == "2026-07"


def test_hybrid_index_declares_sparse_field(standin: PineconeStandIn) -> None:
    idx = connect(standin, HYBRID)
    try:
        body = standin.requests_to("/indexes", "POST")[0].body
        assert body["schema"]["fields"] == {
            "embedding": {"type": "dense_vector", "dimension": DIM, "metric": "cosine"},
            "sparse": {"type": "sparse_vector"},
        }
        assert idx.stats()["metric"] == "cosine"
    finally:
        idx.close()


def test_standin_refuses_filter_only_schema_fields(standin: PineconeStandIn) -> None:
    """Pins why metadata_fields stay out of the schema: Pinecone answers such a create with 400."""
    with Pinecone(api_key=API_KEY, host=standin.controller_url) as pc:
        for declaration in (
            {"type": "float", "filterable": True},
            {"type": "string", "filterable": True},
        ):
            with pytest.raises(ApiError, match="only accepts fields used for search") as caught:
                pc.indexes.create(
                    name="filterable",
                    schema={
                        "fields": {
                            "embedding": {
                                "type": "dense_vector",
                                "dimension": 4,
                                "metric": "cosine",
                            },
                            "price": declaration,
                        }
                    },
                    timeout=-1,
                )
            assert caught.value.status_code == 400
    assert "filterable" not in standin.indexes


def test_existing_index_is_reused_and_checked(standin: PineconeStandIn) -> None:
    connect(standin).close()
    connect(standin).close()
    assert len(standin.requests_to("/indexes", "POST")) == 1
    with pytest.raises(VectorIndexError, match="32-d cosine, the spec needs 64-d cosine"):
        connect(standin, IndexSpec(name="products", dimension=64))
    with pytest.raises(VectorIndexError, match="32-d cosine, the spec needs 32-d dotproduct"):
        connect(standin, replace(SPEC, metric="dotproduct"))
    with pytest.raises(VectorIndexError, match="no sparse_vector field 'sparse'"):
        connect(standin, replace(SPEC, hybrid=True))


def test_vectors_api_index_is_refused(standin: PineconeStandIn) -> None:
    with Pinecone(api_key=API_KEY, host=standin.controller_url) as pc:
        pc.indexes.create(
            name="legacy",
            schema={
                "fields": {
                    "_values": {"type": "dense_vector", "dimension": DIM, "metric": "cosine"}
                }
            },
            timeout=-1,
        )
    with pytest.raises(VectorIndexError, match="served by the vectors API"):
        connect(standin, replace(SPEC, name="legacy"))


def test_missing_index_without_create_raises(standin: PineconeStandIn) -> None:
    with pytest.raises(VectorIndexError, match="does not exist"):
        connect(standin, create_if_missing=False)


def test_wrong_api_key_fails_without_retry(standin: PineconeStandIn) -> None:
    with pytest.raises(VectorIndexError, match="401"):
        connect(standin, api_key="wrong")
    assert len(standin.requests) == 1


# -- data plane -----------------------------------------------------------------------------------


def test_standin_refuses_vectors_api_upsert_to_document_index(
    standin: PineconeStandIn, index: PineconeVectorIndex
) -> None:
    """Pins the 2026-07 behaviour that motivated the move: a document index refuses the
    vectors API, so the SDK's ``index.upsert`` cannot write to what ``indexes.create`` made."""
    with Pinecone(api_key=API_KEY, host=standin.controller_url) as pc:
        sdk_index = pc.index(host=index.host)
        with pytest.raises(ApiError, match="document schema, so writes must go through") as caught:
            sdk_index.upsert(vectors=[("v1", [0.5] * DIM)], namespace="catalog")
        assert caught.value.status_code == 400
        assert caught.value.message == DOCUMENT_SCHEMA_WRITE
        sdk_index.close()
    assert [r.status for r in standin.requests_to("/vectors/upsert")] == [400]
    assert standin.stored("products", "catalog") == {}


def test_upsert_2500_records_in_batches(
    standin: PineconeStandIn, index: PineconeVectorIndex
) -> None:
    records = make_records(2500)
    assert index.upsert("catalog", records) == 2500
    upserts = standin.requests_to(UPSERT)
    assert sorted(len(r.body["documents"]) for r in upserts) == [500, 1000, 1000]
    assert all(r.status == 202 and r.body_bytes <= MAX_REQUEST_BYTES for r in upserts)
    assert index.count("catalog") == 2500
    stored = standin.stored("products", "catalog")["p-00007"]
    assert stored.keys() == {"_id", "embedding", "brand", "category", "price"}
    assert (stored["brand"], stored["category"], stored["price"]) == ("globex", "packs", 7.0)
    np.testing.assert_allclose(stored["embedding"], records[7].vector, rtol=1e-6)


def test_large_metadata_is_split_by_bytes(
    standin: PineconeStandIn, index: PineconeVectorIndex
) -> None:
    rng = np.random.default_rng(1)
    records = [
        VectorRecord(
            id=f"big-{i:03d}", vector=rand(rng, 1)[0], metadata={"blurb": "x" * 30_000, "n": i}
        )
        for i in range(200)
    ]
    assert index.upsert("docs", records) == 200
    upserts = standin.requests_to(documents_path("docs", "upsert"))
    # ~6 MB in all: by count one request would do, by bytes it takes at least three.
    assert len(upserts) >= 3
    assert all(r.status == 202 and r.body_bytes <= MAX_REQUEST_BYTES for r in upserts)
    assert sum(len(r.body["documents"]) for r in upserts) == 200
    assert index.count("docs") == 200


def test_oversized_single_record_is_refused_before_sending(
    standin: PineconeStandIn, index: PineconeVectorIndex
) -> None:
    record = VectorRecord(
        id="huge", vector=np.ones(DIM, np.float32), metadata={"b": "x" * 3_000_000}
    )
    with pytest.raises(VectorIndexError, match="'huge' serializes to"):
        index.upsert("docs", [record])
    assert standin.requests_to(documents_path("docs", "upsert")) == []


def test_byte_limit_matches_the_servers(standin: PineconeStandIn) -> None:
    # With the client's limit above the server's, the stand-in's 413 shows the batching bug.
    standin.max_request_bytes = 200_000
    idx = connect(standin, max_request_bytes=400_000)
    try:
        with pytest.raises(VectorIndexError, match=r"HTTP 413.*exceeds the maximum supported size"):
            idx.upsert("docs", make_records(2000))
    finally:
        idx.close()


def test_reserved_metadata_keys_are_refused(index: PineconeVectorIndex) -> None:
    for key in ("embedding", "sparse", "_score", "$x"):
        record = VectorRecord(id="r", vector=np.ones(DIM, np.float32), metadata={key: "v"})
        with pytest.raises(VectorIndexError, match=re.escape(f"metadata key {key!r}")):
            index.upsert("docs", [record])
    with pytest.raises(VectorIndexError, match="clash"):
        PineconeVectorIndex(
            api_key=API_KEY, spec=replace(SPEC, metadata_fields={"embedding": "string"})
        )


def test_namespaces_are_isolated(standin: PineconeStandIn, index: PineconeVectorIndex) -> None:
    index.upsert("a", make_records(30, seed=1, prefix="a"))
    index.upsert("b", make_records(20, seed=2, prefix="b"))
    index.upsert("", make_records(5, seed=3, prefix="d"))
    # The default partition travels as the ordinary namespace "__default__".
    assert len(standin.stored("products", "__default__")) == 5
    assert (index.count("a"), index.count("b"), index.count(""), index.count("zzz")) == (
        30,
        20,
        5,
        0,
    )
    query = make_records(1, seed=1, prefix="a")[0].vector
    assert {m.id[0] for m in index.query("b", query, top_k=50)} == {"b"}
    assert index.fetch("b", ["a-00000"]) == {}
    assert index.stats()["namespaces"] == {"a": 30, "b": 20, "": 5}
    index.delete_namespace("a")
    index.delete_namespace("a")  # already gone: fine
    index.delete_namespace("")
    assert index.stats()["namespaces"] == {"b": 20}
    assert index.count("") == 0


def test_query_top_k_with_filters(standin: PineconeStandIn, index: PineconeVectorIndex) -> None:
    records = make_records(400)
    index.upsert("catalog", records)
    query = np.random.default_rng(99).standard_normal(DIM).astype(np.float32)

    matches = index.query("catalog", query, top_k=10)
    assert [m.id for m in matches] == cosine_top(records, query, 10)
    assert matches[0].score >= matches[-1].score
    assert matches[0].metadata.keys() == {"brand", "category", "price"}  # vectors dropped
    body = standin.requests_to(SEARCH)[0].body
    assert body["score_by"] == [
        {"type": "dense_vector", "field": "embedding", "values": pytest.approx(query.tolist())}
    ]
    assert (body["top_k"], body["include_fields"], body.get("filter")) == (10, ["*"], None)

    acme = [r for r in records if r.metadata["brand"] == "acme"]
    matches = index.query("catalog", query, top_k=5, where={"brand": "acme"})
    assert [m.id for m in matches] == cosine_top(acme, query, 5)

    wanted = [
        r
        for r in records
        if r.metadata["brand"] == "globex" and r.metadata["category"] in ("tents", "lamps")
    ]
    where = {"brand": "globex", "category": ["tents", "lamps"]}
    matches = index.query("catalog", query, top_k=7, where=where)
    assert [m.id for m in matches] == cosine_top(wanted, query, 7)
    assert standin.requests_to(SEARCH)[-1].body["filter"] == {
        "$and": [{"brand": {"$eq": "globex"}}, {"category": {"$in": ["tents", "lamps"]}}]
    }
    assert index.query("catalog", query, where={"category": []}) == []
    with pytest.raises(VectorIndexError, match="undeclared metadata fields"):
        index.query("catalog", query, where={"colour": "red"})


def test_euclidean_scores_are_higher_is_better(standin: PineconeStandIn) -> None:
    idx = connect(standin, IndexSpec(name="points", dimension=DIM, metric="euclidean"))
    try:
        records = make_records(50)
        idx.upsert("p", records)
        query = records[7].vector + 0.01
        matches = idx.query("p", query, top_k=5)
        assert matches[0].id == "p-00007"
        assert [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)
        assert all(m.score <= 0 for m in matches)
    finally:
        idx.close()


def test_hybrid_query_fuses_dense_and_sparse(standin: PineconeStandIn) -> None:
    rng = np.random.default_rng(5)
    vectors = rand(rng, 50)
    sparse = [SparseVector(sorted({i % 10, 10 + i % 7}), [1.0, 0.5]) for i in range(50)]
    records = [
        VectorRecord(id=f"c{i}", vector=vectors[i], metadata={"doc": f"d{i % 5}"}, sparse=sparse[i])
        for i in range(50)
    ]
    idx = connect(standin, HYBRID)
    search = documents_path("docs", "search")
    try:
        idx.upsert("docs", records)
        assert standin.stored("chunks", "docs")["c3"]["sparse"] == {
            "indices": [3, 13],
            "values": [1.0, 0.5],
        }
        query = vectors[3]
        query_sparse = SparseVector([4, 12], [2.0, 1.0])
        weights = dict(zip(query_sparse.indices, query_sparse.values, strict=True))

        def expected(alpha: float, pool: list[int], top_k: int = 5) -> list[str]:
            depth = top_k * 4
            cosine = {
                i: float(vectors[i] @ query / np.linalg.norm(vectors[i]) / np.linalg.norm(query))
                for i in pool
            }
            dense = sorted(pool, key=lambda i: -cosine[i])[:depth]
            overlap = {
                i: sum(weights.get(k, 0.0) * v for k, v in zip(s.indices, s.values, strict=True))
                for i, s in enumerate(sparse)
                if i in pool and set(s.indices) & set(weights)
            }
            sparse_hits = sorted(overlap, key=lambda i: -overlap[i])[:depth]
            hits: list[Hit] = [(f"c{i}", cosine[i], {}) for i in dense]
            sparse_list: list[Hit] = [(f"c{i}", overlap[i], {}) for i in sparse_hits]
            return [vid for vid, _, _ in fuse_hybrid(hits, sparse_list, alpha, top_k)]

        for alpha in (0.0, 0.3, 0.8):
            before = len(standin.requests_to(search))
            got = idx.query("docs", query, top_k=5, sparse=query_sparse, alpha=alpha)
            assert [m.id for m in got] == expected(alpha, list(range(50))), alpha
            assert all(0.0 <= m.score <= 1.0 for m in got)
            assert got[0].metadata == {"doc": records[int(got[0].id[1:])].metadata["doc"]}
            bodies = [r.body for r in standin.requests_to(search)[before:]]
            assert sorted(b["score_by"][0]["type"] for b in bodies) == [
                "dense_vector",
                "sparse_vector",
            ]
            assert all(b["top_k"] == 20 and len(b["score_by"]) == 1 for b in bodies)
        sparse_body = next(
            r.body
            for r in standin.requests_to(search)
            if r.body["score_by"][0]["type"] == "sparse_vector"
        )
        assert sparse_body["score_by"][0] == {
            "type": "sparse_vector",
            "field": "sparse",
            "sparse_values": {"indices": [4, 12], "values": [2.0, 1.0]},
        }
        # alpha=1: the sparse side cannot matter, so only the dense search is sent.
        before = len(standin.requests_to(search))
        got = idx.query("docs", query, top_k=5, sparse=query_sparse, alpha=1.0)
        assert [m.id for m in got] == expected(1.0, list(range(50)))
        assert len(standin.requests_to(search)) == before + 1

        d1 = [i for i in range(50) if i % 5 == 1]
        got = idx.query("docs", query, top_k=5, sparse=query_sparse, alpha=0.5, where={"doc": "d1"})
        assert [m.id for m in got] == expected(0.5, d1)
        with pytest.raises(VectorIndexError, match="sparse query vector"):
            idx.query("docs", query, text="tents")
        with pytest.raises(VectorIndexError, match="alpha"):
            idx.query("docs", query, sparse=query_sparse, alpha=-0.1)
    finally:
        idx.close()


def test_sparse_on_dense_index_is_refused(index: PineconeVectorIndex) -> None:
    record = VectorRecord(id="x", vector=np.ones(DIM, np.float32), sparse=SparseVector([1], [1.0]))
    with pytest.raises(VectorIndexError, match="not hybrid"):
        index.upsert("docs", [record])
    with pytest.raises(VectorIndexError, match="not hybrid"):
        index.query("docs", np.ones(DIM, np.float32), sparse=SparseVector([1], [1.0]))


def test_fetch_and_delete_split_ids(standin: PineconeStandIn, index: PineconeVectorIndex) -> None:
    records = make_records(2200)
    index.upsert("catalog", records)
    ids = [r.id for r in records]

    fetched = index.fetch("catalog", [*ids[:1500], "missing"])
    assert len(fetched) == 1500
    assert fetched["p-00004"] == {"brand": "globex", "category": "tents", "price": 4.0}
    fetches = standin.requests_to(FETCH)
    assert sorted(len(r.body["ids"]) for r in fetches) == [501, 1000]

    assert index.delete("catalog", [*ids[:1500], *ids[:10], "missing"]) == 1501
    deletes = standin.requests_to(DELETE)
    assert sorted(len(r.body["ids"]) for r in deletes) == [501, 1000]
    assert index.count("catalog") == 700
    assert index.fetch("catalog", ids[1495:1505]).keys() == set(ids[1500:1505])


def test_delete_where(standin: PineconeStandIn, index: PineconeVectorIndex) -> None:
    index.upsert("catalog", make_records(120))
    index.delete_where("catalog", {"brand": "acme", "category": ["tents", "stoves"]})
    body = standin.requests_to(DELETE)[-1].body
    assert body == {
        "filter": {"$and": [{"brand": {"$eq": "acme"}}, {"category": {"$in": ["tents", "stoves"]}}]}
    }
    # acme is i % 3 == 0; tents/stoves are i % 4 in (0, 1): 20 of 120 match.
    assert index.count("catalog") == 100
    assert all(
        not (m["brand"] == "acme" and m["category"] in ("tents", "stoves"))
        for m in index.fetch("catalog", [f"p-{i:05d}" for i in range(120)]).values()
    )
    index.delete_where("catalog", {"brand": []})  # matches nothing: no request
    assert len(standin.requests_to(DELETE)) == 1
    with pytest.raises(VectorIndexError, match="non-empty filter"):
        index.delete_where("catalog", {})


def test_count_and_stats(standin: PineconeStandIn, index: PineconeVectorIndex) -> None:
    index.upsert("x", make_records(12))
    assert index.count("x") == 12
    assert standin.requests_to("/namespaces/x", "GET")[0].status == 200
    assert index.stats() == {
        "backend": "pinecone",
        "name": "products",
        "dimension": DIM,
        "metric": "cosine",
        "hybrid": False,
        "namespaces": {"x": 12},
        "total": 12,
    }


def test_fetch_vectors(standin: PineconeStandIn, index: PineconeVectorIndex) -> None:
    records = make_records(5)
    index.upsert("catalog", records)
    got = index.fetch_vectors("catalog", ["p-00001", "p-00003", "missing"])
    assert set(got) == {"p-00001", "p-00003"}
    assert got["p-00003"].dtype == np.float32
    np.testing.assert_allclose(got["p-00003"], records[3].vector, rtol=1e-6)
    assert standin.requests_to(FETCH)[-1].body["include_fields"] == ["embedding"]


# -- failures and retries -------------------------------------------------------------------------


def test_429_is_retried_with_growing_backoff(
    standin: PineconeStandIn, index: PineconeVectorIndex, sleeps: SleepRecorder
) -> None:
    index.upsert("catalog", make_records(20))
    standin.inject(SEARCH, 429, times=3, message="Too many requests")
    matches = index.query("catalog", make_records(1)[0].vector, top_k=3)
    assert len(matches) == 3
    assert [r.status for r in standin.requests_to(SEARCH)] == [429, 429, 429, 200]
    # Equal jitter: delay k lies in [base * 2**k / 2, base * 2**k].
    assert len(sleeps.delays) == 3
    for attempt, delay in enumerate(sleeps.delays):
        assert 0.01 * 2**attempt / 2 <= delay <= 0.01 * 2**attempt
    assert sleeps.delays[2] > sleeps.delays[0]


def test_retry_after_header_is_honoured(
    standin: PineconeStandIn, index: PineconeVectorIndex, sleeps: SleepRecorder
) -> None:
    standin.inject("/namespaces/catalog", 429, method="GET", retry_after=0.3)
    assert index.count("catalog") == 0
    assert sleeps.delays == [pytest.approx(0.3)]


def test_503_then_success_on_upsert(standin: PineconeStandIn, index: PineconeVectorIndex) -> None:
    standin.inject(UPSERT, 503, times=2)
    assert index.upsert("catalog", make_records(10)) == 10
    assert [r.status for r in standin.requests_to(UPSERT)] == [503, 503, 202]
    assert index.count("catalog") == 10


def test_400_fails_at_once_naming_the_batch(
    standin: PineconeStandIn, index: PineconeVectorIndex
) -> None:
    standin.inject(UPSERT, 400, message="Metadata value too large")
    with pytest.raises(VectorIndexError) as caught:
        index.upsert("catalog", make_records(10))
    message = str(caught.value)
    assert "Metadata value too large" in message and "HTTP 400" in message
    assert "batch 1/1 (10 ids 'p-00000'..'p-00009')" in message
    assert len(standin.requests_to(UPSERT)) == 1


def test_retries_are_bounded(
    standin: PineconeStandIn, index: PineconeVectorIndex, sleeps: SleepRecorder
) -> None:
    standin.inject(FETCH, 500, times=100)
    with pytest.raises(VectorIndexError, match="after 4 attempts: HTTP 500"):
        index.fetch("catalog", ["a"])
    assert len(standin.requests_to(FETCH)) == 4
    assert len(sleeps.delays) == 3


def test_one_failed_batch_of_many_is_retried(
    standin: PineconeStandIn, index: PineconeVectorIndex
) -> None:
    standin.inject(UPSERT, 503, match=holds("p-01500"))
    assert index.upsert("catalog", make_records(2500)) == 2500
    statuses = sorted(r.status for r in standin.requests_to(UPSERT))
    assert statuses == [202, 202, 202, 503]
    assert index.count("catalog") == 2500


def test_one_rejected_batch_of_many_fails_loudly(
    standin: PineconeStandIn, index: PineconeVectorIndex
) -> None:
    standin.inject(UPSERT, 400, match=holds("p-01500"), message="Vector dimension mismatch")
    with pytest.raises(VectorIndexError) as caught:
        index.upsert("catalog", make_records(2500))
    message = str(caught.value)
    assert "1 of 3 requests failed" in message
    assert "batch 2/3 (1000 ids 'p-01000'..'p-01999')" in message
    assert "Vector dimension mismatch" in message
    rejected = [r for r in standin.requests_to(UPSERT) if r.status == 400]
    assert len(rejected) == 1  # never retried


def test_sdk_batch_upsert_reports_failures_without_raising(
    standin: PineconeStandIn, index: PineconeVectorIndex
) -> None:
    """Pins the SDK behaviour that made us batch ourselves: a failed batch is only reported."""
    with Pinecone(api_key=API_KEY, host=standin.controller_url) as pc:
        sdk_index = pc.index(host=index.host)
        standin.inject(UPSERT, 400, after=1, message="rejected")
        documents = [{"_id": r.id, "embedding": r.vector.tolist()} for r in make_records(30)]
        result = sdk_index.documents.batch_upsert(
            namespace="catalog",
            documents=documents,
            batch_size=10,
            max_concurrency=1,
            show_progress=False,
        )
        sdk_index.close()
    assert result.has_errors and result.failed_batch_count == 1
    assert result.successful_item_count == 20 and len(result.failed_items) == 10


def test_open_index_through_backend_config() -> None:
    with PineconeStandIn(api_key=API_KEY, describes_until_ready=0) as standin:
        config = BackendConfig(
            backend="pinecone", api_key=API_KEY, control_host=standin.controller_url
        )
        idx = open_index(config, IndexSpec(name="search_chunks", dimension=DIM))
        try:
            assert idx.backend == "pinecone"
            assert idx.stats()["name"] == "lexi-search-chunks"
            assert list(standin.indexes) == ["lexi-search-chunks"]
        finally:
            idx.close()
