"""BM25 sparse encoding: weights, limits, persistence."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lexi_pipelines.vectors.index import SparseVector
from lexi_pipelines.vectors.sparse import MAX_NON_ZEROS, BM25Encoder, BM25Stats

DOCS = [
    "Ridge rain jacket, waterproof and breathable",
    "Summit 2 tent for two people, olive",
    "Jacket jacket jacket: the red insulated jacket",
    "Camp stove with a wind screen",
]


def _dot(a: SparseVector, b: SparseVector) -> float:
    weights = dict(zip(b.indices, b.values, strict=True))
    return sum(v * weights.get(i, 0.0) for i, v in zip(a.indices, a.values, strict=True))


def test_query_scores_documents_by_bm25() -> None:
    encoder = BM25Encoder()
    encoder.fit(DOCS)
    docs = encoder.encode_documents(DOCS)
    query = encoder.encode_query("red jacket")
    scores = [_dot(query, d) for d in docs]
    assert scores[2] == max(scores)  # most and rarest matching terms
    assert scores[1] == 0.0 and scores[3] == 0.0
    assert scores[0] > 0.0


def test_vectors_are_sorted_unique_positive_and_capped() -> None:
    long_text = " ".join(f"word{i}" for i in range(5000))
    encoder = BM25Encoder()
    encoder.fit([long_text, *DOCS])
    (vector,) = encoder.encode_documents([long_text])
    assert len(vector.indices) == MAX_NON_ZEROS
    assert vector.indices == sorted(set(vector.indices))
    assert all(v > 0 for v in vector.values)
    assert encoder.encode_documents([""])[0] == SparseVector([], [])


def test_term_frequency_saturates() -> None:
    encoder = BM25Encoder()
    encoder.fit(["tent", "tent tent tent tent tent tent tent tent"])
    once, many = encoder.encode_documents(["tent", "tent " * 8])
    assert many.values[0] < 8 * once.values[0]


def test_stats_round_trip_and_idf(tmp_path: Path) -> None:
    encoder = BM25Encoder()
    encoder.fit(DOCS)
    path = tmp_path / "bm25" / "products" / "acme.json"
    encoder.stats.save(path)
    loaded = BM25Stats.load(path)
    assert loaded == encoder.stats
    rare, common = (encoder.encode_query(word) for word in ("stove", "jacket"))
    assert rare.values[0] > common.values[0]
    assert BM25Stats.load(tmp_path / "missing.json").documents == 0
    assert np.isfinite(BM25Stats().idf(42))
