"""The small interface every vector index backend implements.

An index has a name (one per domain: ``products``, ``chunks``), a dimension, a metric and a
declared set of filterable metadata fields; records live in namespaces (one per partition:
an ingestor, a project). Filters are equality on metadata fields, or membership when the
value is a list: ``{"brand": "Acme", "category": ["tents", "stoves"]}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

MetadataType = Literal["string", "float", "int", "bool"]
MetadataValue = str | float | int | bool
Filter = Mapping[str, MetadataValue | Sequence[MetadataValue]]


@dataclass(frozen=True)
class SparseVector:
    """BM25-style weights of hashed tokens; indices are unique and sorted."""

    indices: list[int]
    values: list[float]


@dataclass(frozen=True)
class IndexSpec:
    name: str
    dimension: int
    metric: Literal["cosine", "dotproduct", "euclidean"] = "cosine"
    # Fields that filters may name, with their types; other metadata is stored, not filtered.
    metadata_fields: Mapping[str, MetadataType] = field(default_factory=dict)
    # Whether records carry sparse vectors / searchable text for hybrid queries.
    hybrid: bool = False


@dataclass(frozen=True)
class VectorRecord:
    id: str
    vector: npt.NDArray[np.float32]  # shape (dimension,)
    metadata: Mapping[str, MetadataValue] = field(default_factory=dict)
    # For hybrid search: the backend uses the sparse vector or its own full-text index.
    text: str | None = None
    sparse: SparseVector | None = None


@dataclass(frozen=True)
class QueryMatch:
    id: str
    score: float  # higher is better
    metadata: Mapping[str, Any]


class VectorIndexError(Exception):
    """A request the index refused or could not complete (after retries, where retrying made
    sense); the message says which batch or ids."""


class VectorIndex(Protocol):
    """One index of one backend. Methods are synchronous and safe to call from one thread."""

    backend: str
    spec: IndexSpec

    def upsert(self, namespace: str, records: Sequence[VectorRecord]) -> int:
        """Insert or replace records by id; returns how many were written. All or error."""
        ...

    def delete(self, namespace: str, ids: Sequence[str]) -> int:
        """Delete records by id (missing ids are fine); returns how many ids were sent."""
        ...

    def delete_where(self, namespace: str, where: Filter) -> None:
        """Delete every record of the namespace whose metadata matches ``where``."""
        ...

    def delete_namespace(self, namespace: str) -> None: ...

    def query(
        self,
        namespace: str,
        vector: npt.NDArray[np.float32],
        *,
        top_k: int = 10,
        where: Filter | None = None,
        text: str | None = None,
        sparse: SparseVector | None = None,
        alpha: float = 0.5,
    ) -> list[QueryMatch]:
        """Top-k by similarity. With ``text``/``sparse`` (hybrid indexes), ``alpha`` weighs the
        dense side (1.0) against the sparse/full-text side (0.0)."""
        ...

    def fetch(self, namespace: str, ids: Sequence[str]) -> dict[str, Mapping[str, Any]]:
        """Metadata of the given ids that exist."""
        ...

    def fetch_vectors(
        self, namespace: str, ids: Sequence[str]
    ) -> dict[str, npt.NDArray[np.float32]]:
        """Stored dense vectors of the given ids that exist (to rewrite metadata only)."""
        ...

    def count(self, namespace: str) -> int: ...

    def stats(self) -> dict[str, Any]:
        """Backend, name, dimension, metric and record count per namespace."""
        ...

    def close(self) -> None: ...


def normalize_filter(where: Filter | None) -> dict[str, list[MetadataValue]]:
    """``{field: [values...]}``: one value means equality, several membership."""
    if not where:
        return {}
    normalized: dict[str, list[MetadataValue]] = {}
    for key, value in where.items():
        if isinstance(value, str | int | float | bool):
            normalized[key] = [value]
        else:
            normalized[key] = list(value)
    return normalized
