"""Embedded vector index on LanceDB: one table per index under ``root``, no server.

Layout of a table: ``namespace``, ``id`` (the key is the pair), ``vector`` (fixed-size float32),
one typed ``meta_<field>`` column per filterable field (filters become SQL on these), the whole
metadata as a JSON string (``metadata``, what queries return) and, for hybrid specs, ``text``
with LanceDB's native full-text index.

Search is exact (brute force) until a table holds ``ann_threshold`` rows; measured at 384
dimensions a flat scan costs about 1 ms per 1,000 rows, so 20,000 keeps p95 near 20 ms. Above
that an IVF_HNSW_SQ index is built (see ``AnnParams``) together with scalar indexes on the
filter columns, and kept current by ``optimize``. LanceDB also scans rows the index has not
seen yet, so results stay correct between optimizations; they are only slower.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import lancedb
import numpy as np
import numpy.typing as npt
import orjson
import pyarrow as pa
from lancedb.index import FTS, Bitmap, BTree, HnswSq
from lancedb.query import MatchQuery

from lexi_pipelines.vectors.index import (
    Filter,
    IndexSpec,
    MetadataType,
    MetadataValue,
    QueryMatch,
    SparseVector,
    VectorIndexError,
    VectorRecord,
    normalize_filter,
)

log = logging.getLogger(__name__)

_META_PREFIX = "meta_"
_VECTOR_INDEX = "vector_idx"
_TEXT_INDEX = "text_idx"
_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_FIELD_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_ARROW_TYPES: dict[MetadataType, pa.DataType] = {
    "string": pa.string(),
    "float": pa.float64(),
    "int": pa.int64(),
    "bool": pa.bool_(),
}
_LANCE_METRIC = {"cosine": "cosine", "dotproduct": "dot", "euclidean": "l2"}
# Ids per ``IN (...)`` list: keeps SQL statements small without many round trips.
_ID_BATCH = 1_000
# Reciprocal-rank-fusion constant (the usual 60): damps the gap between the first ranks.
_RRF_K = 60


@dataclass(frozen=True)
class AnnParams:
    """The ANN index and its search settings, chosen by ``benchmarks/bench_index.py``.

    At 100k x 384 (clustered unit vectors, 2 shared cores) IVF_HNSW_SQ with one partition built
    in 21-28 s; ef=100 with refine_factor=2 gave recall@10 1.000 at p95 ~10 ms (ef=40: 0.95,
    refine 1: 0.99). IVF_PQ (64 partitions, 48 sub-vectors) took ~40 s to build and reached
    only 0.96 at nprobes=40, whatever the refine factor.
    """

    # One HNSW graph per ~1M rows: fewer partitions means better recall, more memory per graph.
    rows_per_partition: int = 1_000_000
    m: int = 16
    ef_construction: int = 150
    ef: int = 100
    # Re-rank refine_factor * k candidates on the full vectors: exact scores, better recall.
    refine_factor: int = 2
    # A filtered query matching at most this many rows is answered exactly (flat scan of the
    # matches through the scalar index), so selective filters cannot come back short.
    exact_filter_rows: int = 2_000


class LanceVectorIndex:
    """``VectorIndex`` on an embedded LanceDB database. Safe for one thread per instance;
    several processes may open the same root (LanceDB commits optimistically and retries)."""

    backend = "lancedb"

    def __init__(
        self,
        root: Path,
        spec: IndexSpec,
        *,
        ann_threshold: int = 20_000,
        ann: AnnParams | None = None,
        auto_optimize: bool = True,
        optimize_after_rows: int = 20_000,
        optimize_after_writes: int = 50,
        keep_versions_for: timedelta = timedelta(hours=1),
    ) -> None:
        """``auto_optimize``: after writes, build the ANN index once the table reaches
        ``ann_threshold`` rows, and fold new rows into the indexes once ``optimize_after_rows``
        are unindexed or ``optimize_after_writes`` writes happened. Turn it off to load in bulk,
        then call ``optimize()`` once."""
        if not _NAME_RE.match(spec.name):
            raise VectorIndexError(f"invalid index name {spec.name!r} (letters, digits, _ . -)")
        if spec.dimension <= 0:
            raise VectorIndexError(f"index {spec.name!r}: dimension must be positive")
        if spec.metric not in _LANCE_METRIC:
            raise VectorIndexError(f"index {spec.name!r}: unsupported metric {spec.metric!r}")
        for name, kind in spec.metadata_fields.items():
            if not _FIELD_RE.match(name):
                raise VectorIndexError(
                    f"index {spec.name!r}: metadata field {name!r} must be an identifier"
                )
            if kind not in _ARROW_TYPES:
                raise VectorIndexError(f"index {spec.name!r}: field {name!r} has type {kind!r}")
        self.spec = spec
        self.root = Path(root)
        self.ann_threshold = ann_threshold
        self.ann = ann or AnnParams()
        self.auto_optimize = auto_optimize
        self.optimize_after_rows = optimize_after_rows
        self.optimize_after_writes = optimize_after_writes
        self.keep_versions_for = keep_versions_for
        self._metric = _LANCE_METRIC[spec.metric]
        self._writes = 0
        self._lock = threading.Lock()
        self._schema = self._build_schema()
        self.root.mkdir(parents=True, exist_ok=True)
        with self._errors("open"):
            # Interval 0: every call sees commits made by other processes since the last one.
            self._db: Any = lancedb.connect(str(self.root), read_consistency_interval=timedelta(0))
            self._table: Any = self._open_or_create()

    # -- protocol ---------------------------------------------------------------------------

    def upsert(self, namespace: str, records: Sequence[VectorRecord]) -> int:
        if not records:
            return 0
        data = self._to_arrow(namespace, records)
        with self._errors(f"upsert of {data.num_rows} records into namespace {namespace!r}"):
            (
                self._table.merge_insert(["namespace", "id"])
                .when_matched_update_all()
                .when_not_matched_insert_all()
                .execute(data)
            )
        self._after_write()
        return data.num_rows

    def delete(self, namespace: str, ids: Sequence[str]) -> int:
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), _ID_BATCH):
            batch = unique[start : start + _ID_BATCH]
            with self._errors(f"delete of ids {batch[0]!r}..{batch[-1]!r} ({len(batch)})"):
                self._table.delete(f"{self._ns_clause(namespace)} AND {_in_clause('id', batch)}")
        if unique:
            self._after_write()
        return len(ids)

    def delete_where(self, namespace: str, where: Filter) -> None:
        if not where:
            # An empty filter would match everything; that has its own explicit method.
            raise VectorIndexError("delete_where needs a filter; use delete_namespace")
        clause = self._where_clause(namespace, where)
        with self._errors(f"delete where {dict(where)!r} in namespace {namespace!r}"):
            self._table.delete(clause)
        self._after_write()

    def delete_namespace(self, namespace: str) -> None:
        with self._errors(f"delete of namespace {namespace!r}"):
            self._table.delete(self._ns_clause(namespace))
        self._after_write()

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
        """Dense top-k; with ``text`` on a hybrid index, dense and full-text results are fused
        by weighted reciprocal rank (``alpha`` for dense, ``1 - alpha`` for text). ``sparse``
        is not used: this backend ranks text with its own BM25 index."""
        if top_k <= 0:
            return []
        if not 0.0 <= alpha <= 1.0:
            raise VectorIndexError(f"alpha must be in [0, 1], got {alpha}")
        query_vector = self._check_query_vector(vector)
        clause = self._where_clause(namespace, where)
        use_text = bool(text and text.strip()) and alpha < 1.0
        if use_text and not self.spec.hybrid:
            raise VectorIndexError(f"index {self.spec.name!r} is not hybrid; query without text")
        with self._errors(f"query of namespace {namespace!r}"):
            if not use_text:
                rows = self._dense(query_vector, clause, top_k)
                return [QueryMatch(r[0], r[1], _loads(r[2])) for r in rows]
            assert text is not None
            # Fusion needs more than k from each side: a document ranked low by one retriever
            # and high by the other must be seen by both to be rewarded.
            depth = max(50, 4 * top_k)
            dense = self._dense(query_vector, clause, depth) if alpha > 0.0 else []
            lexical = self._lexical(text, clause, depth)
        return _fuse(dense, lexical, alpha, top_k)

    def fetch(self, namespace: str, ids: Sequence[str]) -> dict[str, Mapping[str, Any]]:
        unique = list(dict.fromkeys(ids))
        found: dict[str, Mapping[str, Any]] = {}
        for start in range(0, len(unique), _ID_BATCH):
            batch = unique[start : start + _ID_BATCH]
            clause = f"{self._ns_clause(namespace)} AND {_in_clause('id', batch)}"
            with self._errors(f"fetch of {len(batch)} ids from namespace {namespace!r}"):
                table = (
                    self._table.search().where(clause).select(["id", "metadata"]).limit(None)
                ).to_arrow()
            for row_id, meta in zip(
                table.column("id").to_pylist(), table.column("metadata").to_pylist(), strict=True
            ):
                found[row_id] = _loads(meta)
        return found

    def fetch_vectors(
        self, namespace: str, ids: Sequence[str]
    ) -> dict[str, npt.NDArray[np.float32]]:
        unique = list(dict.fromkeys(ids))
        found: dict[str, npt.NDArray[np.float32]] = {}
        dim = self.spec.dimension
        for start in range(0, len(unique), _ID_BATCH):
            batch = unique[start : start + _ID_BATCH]
            clause = f"{self._ns_clause(namespace)} AND {_in_clause('id', batch)}"
            with self._errors(f"fetch of {len(batch)} vectors from namespace {namespace!r}"):
                table = (
                    self._table.search().where(clause).select(["id", "vector"]).limit(None)
                ).to_arrow()
            # One flat buffer for the batch, then a view per row: no per-row list conversion.
            flat = table.column("vector").combine_chunks().flatten().to_numpy()
            matrix = np.asarray(flat, dtype=np.float32).reshape(-1, dim)
            for row, row_id in enumerate(table.column("id").to_pylist()):
                found[row_id] = matrix[row].copy()
        return found

    def count(self, namespace: str) -> int:
        with self._errors(f"count of namespace {namespace!r}"):
            return int(self._table.count_rows(self._ns_clause(namespace)))

    def stats(self) -> dict[str, Any]:
        with self._errors("stats"):
            column = self._table.search().select(["namespace"]).limit(None).to_arrow()
            grouped = (
                pa.table({"namespace": column.column("namespace")})
                .group_by("namespace")
                .aggregate([("namespace", "count")])
            )
            per_namespace = dict(
                zip(
                    grouped.column("namespace").to_pylist(),
                    grouped.column("namespace_count").to_pylist(),
                    strict=True,
                )
            )
            ann = self._table.index_stats(_VECTOR_INDEX) if self._has_vector_index() else None
        return {
            "backend": self.backend,
            "name": self.spec.name,
            "dimension": self.spec.dimension,
            "metric": self.spec.metric,
            "namespaces": per_namespace,
            "total_count": sum(per_namespace.values()),
            "path": str(self.root / f"{self.spec.name}.lance"),
            "ann_index": None
            if ann is None
            else {
                "type": ann.index_type,
                "indexed_rows": ann.num_indexed_rows,
                "unindexed_rows": ann.num_unindexed_rows,
            },
        }

    def close(self) -> None:
        # Tables hold no open handles between calls; dropping references frees caches.
        self._table = None
        self._db = None

    # -- maintenance --------------------------------------------------------------------------

    def optimize(self, *, force_ann: bool = False) -> dict[str, Any]:
        """Build the ANN and scalar indexes if the table is large enough (or ``force_ann``),
        else compact files, fold new rows into existing indexes and prune old versions."""
        with self._lock, self._errors("optimize"):
            rows = self._table.count_rows()
            built = False
            if not self._has_vector_index():
                if rows >= max(self.ann_threshold, 256) or (force_ann and rows >= 256):
                    self._build_indexes(rows)
                    built = True
            else:
                self._table.optimize(cleanup_older_than=self.keep_versions_for)
            self._writes = 0
        return {"rows": rows, "ann_built": built, "ann_index": self._has_vector_index()}

    def _after_write(self) -> None:
        self._writes += 1
        if not self.auto_optimize:
            return
        try:
            if not self._has_vector_index():
                if self._table.count_rows() >= max(self.ann_threshold, 256):
                    self.optimize()
                return
            stats = self._table.index_stats(_VECTOR_INDEX)
            unindexed = stats.num_unindexed_rows if stats else 0
            if unindexed >= self.optimize_after_rows or self._writes >= self.optimize_after_writes:
                self.optimize()
        except VectorIndexError as exc:
            # The write itself committed; a failed (e.g. concurrent) index build only costs speed.
            log.warning("index %s: maintenance after write failed: %s", self.spec.name, exc)

    def _build_indexes(self, rows: int) -> None:
        partitions = max(1, math.ceil(rows / self.ann.rows_per_partition))
        self._table.create_index(
            "vector",
            config=HnswSq(
                distance_type=self._metric,  # type: ignore[arg-type]
                num_partitions=partitions,
                m=self.ann.m,
                ef_construction=self.ann.ef_construction,
            ),
            name=_VECTOR_INDEX,
            replace=True,
        )
        # Every query filters on namespace and fetch/delete on id: without these indexes a
        # prefilter reads the whole column (about 100 ms at 100k rows instead of 1 ms).
        self._table.create_index("namespace", config=Bitmap(), replace=True)
        self._table.create_index("id", config=BTree(), replace=True)
        for name, kind in self.spec.metadata_fields.items():
            config = Bitmap() if kind == "bool" else BTree()
            self._table.create_index(_META_PREFIX + name, config=config, replace=True)
        log.info("index %s: built IVF_HNSW_SQ over %d rows", self.spec.name, rows)

    def _has_vector_index(self) -> bool:
        return any(ix.name == _VECTOR_INDEX for ix in self._table.list_indices())

    # -- internals ------------------------------------------------------------------------------

    def _build_schema(self) -> pa.Schema:
        fields = [
            pa.field("namespace", pa.string(), nullable=False),
            pa.field("id", pa.string(), nullable=False),
            pa.field("vector", pa.list_(pa.float32(), self.spec.dimension), nullable=False),
            pa.field("metadata", pa.string()),
        ]
        fields += [
            pa.field(_META_PREFIX + name, _ARROW_TYPES[kind])
            for name, kind in self.spec.metadata_fields.items()
        ]
        if self.spec.hybrid:
            fields.append(pa.field("text", pa.string()))
        return pa.schema(fields, metadata={"lexi.metric": self.spec.metric})

    def _open_or_create(self) -> Any:
        name = self.spec.name
        try:
            table = self._db.open_table(name)
        except (ValueError, FileNotFoundError):
            try:
                table = self._db.create_table(name, schema=self._schema, exist_ok=True)
            except ValueError:
                # Another process created it first with a different schema: validate below.
                table = self._db.open_table(name)
            if self.spec.hybrid and not any(ix.name == _TEXT_INDEX for ix in table.list_indices()):
                self._create_text_index(table)
        self._check_schema(table)
        return table

    def _create_text_index(self, table: Any) -> None:
        try:
            table.create_index("text", config=FTS(), name=_TEXT_INDEX, replace=False)
        except Exception as exc:  # a concurrent creator may have won the race
            if not any(ix.name == _TEXT_INDEX for ix in table.list_indices()):
                raise VectorIndexError(f"index {self.spec.name!r}: text index: {exc}") from exc

    def _check_schema(self, table: Any) -> None:
        schema: pa.Schema = table.schema
        name = self.spec.name
        vector_type: Any = schema.field("vector").type if "vector" in schema.names else None
        if vector_type is None or not pa.types.is_fixed_size_list(vector_type):
            raise VectorIndexError(f"index {name!r}: table has no fixed-size vector column")
        if vector_type.list_size != self.spec.dimension:
            raise VectorIndexError(
                f"index {name!r} at {self.root} stores dimension {vector_type.list_size}, "
                f"spec says {self.spec.dimension}; use another index name or drop the table"
            )
        stored_metric = (schema.metadata or {}).get(b"lexi.metric", b"").decode()
        if stored_metric and stored_metric != self.spec.metric:
            raise VectorIndexError(
                f"index {name!r} was created with metric {stored_metric}, spec says "
                f"{self.spec.metric}"
            )
        missing = [f for f in self._schema if f.name not in schema.names]
        for wanted in self._schema:
            if wanted.name in schema.names and schema.field(wanted.name).type != wanted.type:
                raise VectorIndexError(
                    f"index {name!r}: column {wanted.name} is {schema.field(wanted.name).type}, "
                    f"spec needs {wanted.type}"
                )
        if missing:
            # A field added to the spec: the new column starts empty; re-upserting fills it.
            log.warning("index %s: adding columns %s", name, [f.name for f in missing])
            table.add_columns([pa.field(f.name, f.type) for f in missing])
            if self.spec.hybrid and any(f.name == "text" for f in missing):
                self._create_text_index(table)

    def _to_arrow(self, namespace: str, records: Sequence[VectorRecord]) -> pa.Table:
        name, dim = self.spec.name, self.spec.dimension
        # Last record wins for repeated ids: merge_insert is undefined on duplicate keys.
        latest = list({r.id: r for r in records}.values())
        for r in latest:
            if not isinstance(r.id, str) or not r.id:
                raise VectorIndexError(f"index {name!r}: record id must be a non-empty string")
            if np.shape(r.vector) != (dim,):
                raise VectorIndexError(
                    f"index {name!r}: record {r.id!r} has vector shape {np.shape(r.vector)}, "
                    f"expected ({dim},)"
                )
        matrix = np.stack([np.asarray(r.vector, dtype=np.float32) for r in latest])
        bad = ~np.isfinite(matrix).all(axis=1)
        if self._metric == "cosine":
            bad |= ~(np.abs(matrix).sum(axis=1) > 0)
        if bad.any():
            ids = [latest[i].id for i in np.flatnonzero(bad)[:5]]
            raise VectorIndexError(
                f"index {name!r}: {int(bad.sum())} records have non-finite or zero vectors "
                f"(e.g. {ids})"
            )
        columns: dict[str, pa.Array] = {
            "namespace": pa.array([namespace] * len(latest), pa.string()),
            "id": pa.array([r.id for r in latest], pa.string()),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(matrix.reshape(-1)), dim),
            "metadata": pa.array(
                [orjson.dumps(dict(r.metadata)).decode() for r in latest], pa.string()
            ),
        }
        for field_name, kind in self.spec.metadata_fields.items():
            values = [r.metadata.get(field_name) for r in latest]
            try:
                columns[_META_PREFIX + field_name] = pa.array(values, _ARROW_TYPES[kind])
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError) as exc:
                raise VectorIndexError(
                    f"index {name!r}: metadata field {field_name!r} must be {kind}: {exc}"
                ) from exc
        if self.spec.hybrid:
            columns["text"] = pa.array([r.text for r in latest], pa.string())
        return pa.Table.from_pydict(columns, schema=self._schema)

    def _check_query_vector(self, vector: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        arr = np.asarray(vector, dtype=np.float32).reshape(-1)
        if arr.shape != (self.spec.dimension,):
            raise VectorIndexError(
                f"index {self.spec.name!r}: query vector has dimension {arr.shape[0]}, "
                f"expected {self.spec.dimension}"
            )
        if not np.isfinite(arr).all() or (self._metric == "cosine" and not np.any(arr)):
            raise VectorIndexError(f"index {self.spec.name!r}: query vector is zero or non-finite")
        return arr

    def _ns_clause(self, namespace: str) -> str:
        return f"namespace = {_sql_literal(namespace, 'string')}"

    def _where_clause(self, namespace: str, where: Filter | None) -> str:
        parts = [self._ns_clause(namespace)]
        for field_name, values in normalize_filter(where).items():
            kind = self.spec.metadata_fields.get(field_name)
            if kind is None:
                raise VectorIndexError(
                    f"index {self.spec.name!r}: {field_name!r} is not a filterable field "
                    f"(declared: {sorted(self.spec.metadata_fields)})"
                )
            literals = [_sql_literal(v, kind, field_name) for v in values]
            column = f"`{_META_PREFIX}{field_name}`"
            if not literals:
                parts.append("FALSE")  # membership in an empty list
            elif len(literals) == 1:
                parts.append(f"{column} = {literals[0]}")
            else:
                parts.append(f"{column} IN ({', '.join(literals)})")
        return " AND ".join(parts)

    def _dense(
        self, vector: npt.NDArray[np.float32], clause: str, k: int
    ) -> list[tuple[str, float, str]]:
        search = (
            self._table.search(vector, vector_column_name="vector")
            .distance_type(self._metric)
            .where(clause, prefilter=True)
            .select(["id", "metadata", "_distance"])
            .limit(k)
        )
        if self._has_vector_index():
            if self._table.count_rows(clause) <= max(self.ann.exact_filter_rows, k):
                search = search.bypass_vector_index()
            else:
                refine = max(1, self.ann.refine_factor)
                # HNSW needs ef >= the k it is asked for, which refining multiplies.
                ef = max(self.ann.ef, 4 * k, refine * k)
                search = search.ef(ef).refine_factor(refine)
        table = search.to_arrow()
        scores = [self._score(d) for d in table.column("_distance").to_pylist()]
        return list(
            zip(
                table.column("id").to_pylist(),
                scores,
                table.column("metadata").to_pylist(),
                strict=True,
            )
        )

    def _lexical(self, text: str, clause: str, k: int) -> list[tuple[str, float, str]]:
        # MatchQuery takes the words as data: no query-syntax parsing of user text.
        table = (
            self._table.search(_match_query(text), query_type="fts")
            .where(clause, prefilter=True)
            .select(["id", "metadata", "_score"])
            .limit(k)
        ).to_arrow()
        return list(
            zip(
                table.column("id").to_pylist(),
                table.column("_score").to_pylist(),
                table.column("metadata").to_pylist(),
                strict=True,
            )
        )

    def _score(self, distance: float) -> float:
        # LanceDB distances: cosine = 1 - cos, dot = 1 - x.y, l2 = squared euclidean.
        if self._metric == "l2":
            return -float(distance)
        return 1.0 - float(distance)

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except VectorIndexError:
            raise
        except Exception as exc:
            raise VectorIndexError(
                f"lancedb index {self.spec.name!r}: {what} failed: {type(exc).__name__}: {exc}"
            ) from exc


def _fuse(
    dense: Sequence[tuple[str, float, str]],
    lexical: Sequence[tuple[str, float, str]],
    alpha: float,
    top_k: int,
) -> list[QueryMatch]:
    """Weighted reciprocal rank fusion, scaled so rank 1 on both sides scores 1.0.

    Ranks rather than scores: BM25 is unbounded and query-dependent while cosine sits in a
    narrow band, so min-max-normalized scores swing with the candidate list's outliers; ranks
    need no calibration and ``alpha`` still moves the balance."""
    fused: dict[str, float] = {}
    metadata: dict[str, str] = {}
    dense_score: dict[str, float] = {}
    for side, (weight, rows) in enumerate(((alpha, dense), (1.0 - alpha, lexical))):
        for rank, (row_id, score, meta) in enumerate(rows, start=1):
            fused[row_id] = fused.get(row_id, 0.0) + weight * (_RRF_K + 1) / (_RRF_K + rank)
            metadata.setdefault(row_id, meta)
            if side == 0:
                dense_score[row_id] = score
    # Ties (e.g. first on one side only) go to the better dense similarity.
    order = sorted(fused, key=lambda i: (-fused[i], -dense_score.get(i, -math.inf)))
    return [QueryMatch(i, fused[i], _loads(metadata[i])) for i in order[:top_k]]


def _sql_literal(value: MetadataValue, kind: MetadataType, field: str = "namespace") -> str:
    """A SQL literal of the declared type; strings get quotes doubled (LanceDB's SQL treats
    backslashes literally), everything else must already be of the right type."""
    if kind == "string":
        if not isinstance(value, str):
            raise VectorIndexError(f"filter on {field!r}: expected a string, got {value!r}")
        return "'" + value.replace("'", "''") + "'"
    if kind == "bool":
        if not isinstance(value, bool | np.bool_):
            raise VectorIndexError(f"filter on {field!r}: expected a bool, got {value!r}")
        return "TRUE" if value else "FALSE"
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise VectorIndexError(f"filter on {field!r}: expected a number, got {value!r}")
    if kind == "int":
        if float(value) != int(value):
            raise VectorIndexError(f"filter on {field!r}: expected an int, got {value!r}")
        return str(int(value))
    number = float(value)
    if not math.isfinite(number):
        raise VectorIndexError(f"filter on {field!r}: {value!r} is not finite")
    return repr(number)


def _in_clause(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(_sql_literal(v, 'string', column) for v in values)})"


def _match_query(text: str) -> Any:
    # The pydantic dataclass's keyword defaults are invisible to mypy; build it untyped.
    factory: Any = MatchQuery
    return factory(text, "text")


def _loads(raw: str | None) -> dict[str, Any]:
    return orjson.loads(raw) if raw else {}


__all__ = ["AnnParams", "LanceVectorIndex"]
