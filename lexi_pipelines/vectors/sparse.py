"""BM25-style sparse vectors over hashed tokens, computed offline (no downloads).

Documents get BM25's saturated term frequency, ``tf (k1 + 1) / (tf + k1 (1 - b + b dl/avgdl))``;
queries get each term's inverse document frequency. Their dot product is the BM25 score, which
is what a sparse-dense index (Pinecone) adds to the dense similarity. Tokens are hashed into
2^18 buckets with scikit-learn's HashingVectorizer, so no vocabulary has to be kept; document
frequencies are kept per bucket in a small JSON file beside the index.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from lexi_pipelines.common.files import write_text_atomically
from lexi_pipelines.vectors.index import SparseVector

if TYPE_CHECKING:
    from scipy import sparse as sp

N_FEATURES = 1 << 18
MAX_NON_ZEROS = 1000  # Pinecone's limit per sparse vector
_TOKEN_PATTERN = r"(?u)\b\w+\b"


def _vectorizer() -> Any:
    # Imported here: scikit-learn costs about a second, and definitions load this module.
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(
        n_features=N_FEATURES,
        token_pattern=_TOKEN_PATTERN,
        lowercase=True,
        alternate_sign=False,
        norm=None,
    )


@dataclass
class BM25Stats:
    """Corpus statistics: documents, total length and document frequency per bucket."""

    documents: int = 0
    total_length: int = 0
    document_frequency: dict[int, int] = field(default_factory=dict)

    @property
    def average_length(self) -> float:
        return self.total_length / self.documents if self.documents else 1.0

    def idf(self, bucket: int) -> float:
        df = self.document_frequency.get(bucket, 0)
        return math.log(1.0 + (self.documents - df + 0.5) / (df + 0.5))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)  # first save of a namespace
        payload = {
            "documents": self.documents,
            "total_length": self.total_length,
            "document_frequency": {str(k): v for k, v in self.document_frequency.items()},
        }
        write_text_atomically(path, json.dumps(payload, separators=(",", ":")))

    @classmethod
    def load(cls, path: Path) -> BM25Stats:
        if not path.is_file():
            return cls()
        payload = json.loads(path.read_text())
        return cls(
            documents=int(payload["documents"]),
            total_length=int(payload["total_length"]),
            document_frequency={int(k): int(v) for k, v in payload["document_frequency"].items()},
        )


class BM25Encoder:
    def __init__(self, stats: BM25Stats | None = None, k1: float = 1.2, b: float = 0.75):
        self.stats = stats or BM25Stats()
        self.k1 = k1
        self.b = b
        self._vectorizer = _vectorizer()

    def _counts(self, texts: Sequence[str]) -> sp.csr_matrix:
        return self._vectorizer.transform(list(texts)).tocsr()

    def fit(self, texts: Iterable[str]) -> None:
        """Recompute the corpus statistics from every text of the namespace."""
        texts = list(texts)
        stats = BM25Stats()
        if texts:
            counts = self._counts(texts)
            present = np.asarray((counts > 0).sum(axis=0)).ravel()
            buckets = np.flatnonzero(present)
            stats = BM25Stats(
                documents=counts.shape[0],
                total_length=int(counts.sum()),
                document_frequency={int(b): int(present[b]) for b in buckets},
            )
        self.stats = stats

    def encode_documents(self, texts: Sequence[str]) -> list[SparseVector]:
        counts = self._counts(texts)
        avgdl = self.stats.average_length
        vectors = []
        for row in range(counts.shape[0]):
            start, end = counts.indptr[row], counts.indptr[row + 1]
            indices, tf = counts.indices[start:end], counts.data[start:end]
            length = float(tf.sum())
            weights = tf * (self.k1 + 1) / (tf + self.k1 * (1 - self.b + self.b * length / avgdl))
            vectors.append(_top(indices, weights))
        return vectors

    def encode_query(self, text: str) -> SparseVector:
        counts = self._counts([text])
        indices = counts.indices
        weights = np.array([self.stats.idf(int(i)) for i in indices], dtype=np.float64)
        return _top(indices, weights)


def _top(indices: np.ndarray, weights: np.ndarray) -> SparseVector:
    """Sorted indices with positive weights, at most MAX_NON_ZEROS of the largest."""
    keep = weights > 0
    indices, weights = indices[keep], weights[keep]
    if len(indices) > MAX_NON_ZEROS:
        largest = np.argpartition(weights, -MAX_NON_ZEROS)[-MAX_NON_ZEROS:]
        indices, weights = indices[largest], weights[largest]
    order = np.argsort(indices)
    return SparseVector(
        indices=[int(i) for i in indices[order]],
        values=[round(float(w), 6) for w in weights[order]],
    )
