"""Pinecone backend of :class:`~lexi_pipelines.vectors.index.VectorIndex`, on the Documents API.

Why the Documents API: on API version 2026-07 (what the pinecone SDK 10.2 speaks) ``POST
/indexes`` takes a typed schema, and an index whose schema names its vector fields (here
``embedding`` and ``sparse``) is a *document index*. It serves only the document operations
(``/namespaces/{ns}/documents/upsert|search|fetch|delete``) plus index stats and the namespace
operations; the vectors API (``/vectors/upsert``, ``/query``...) refuses it with a 400 ("This
index has a document schema, so writes must go through the documents API").

What the Documents API changes, and how this module handles it:

* **Records are documents**: ``{"_id": id, "embedding": [...], "sparse": {"indices", "values"},
  **metadata}``. Metadata keys sit beside the vector fields, so keys named like a vector field or
  starting with ``_`` (reserved: ``_id``, ``_score``) are refused before sending.
* **Filterable metadata is not declared.** On managed indexes the create schema accepts only
  searched fields (``dense_vector``, ``sparse_vector``, ``string`` with full-text search); a
  ``float``/``boolean``/``string`` filter-only declaration fails the whole create with a 400,
  while every metadata value upserted is indexed for filtering automatically. So
  ``spec.metadata_fields`` is enforced here, client-side, on the filters we send. Filters keep
  the ``$eq``/``$in``/``$and`` syntax.
* **Hybrid is fused client-side.** ``score_by`` may combine only ``text``/``query_string``
  clauses; a ``dense_vector`` or ``sparse_vector`` clause must stand alone, and there is no weight
  parameter. A hybrid query therefore runs a dense and a sparse search in parallel (each
  ``top_k * hybrid_candidates`` deep) and ranks the union by
  ``alpha * minmax(dense) + (1 - alpha) * minmax(sparse)``: min-max per list because cosine
  similarities and BM25 dot products live on unrelated scales; a document missing from one
  list scores 0 on that side (it ranked below that list's minimum). Hybrid scores are therefore
  in [0, 1]. As dense and sparse are no longer added inside Pinecone, the dense field keeps the
  spec's metric (the vectors API needed dotproduct).
* **Namespaces are path segments** and must be non-empty: our default namespace ``""`` is stored
  as ``__default__``, an ordinary name on a document index.
* **Writes are asynchronous** on Pinecone (202 Accepted): a read right after a write may not see it.

What this module adds on top of the SDK, as before:

* **Batching by bytes as well as count.** A request carries at most 1,000 documents *and* 2 MB
  of JSON (the upsert_documents spec; a document alone is also capped at 2 MB). The SDK's
  ``documents.batch_upsert`` splits by count and only halves a batch after a 413, and it
  *returns* failed batches in a ``BatchResult`` instead of raising. We plan batches from each
  document's exact serialized size and send each with the single-request
  ``documents.upsert`` (which raises), on our own thread pool, so a failed batch can only end in
  a retry or a :class:`VectorIndexError`: never a silent partial write.
* **One retry policy.** The SDK's REST data plane retries 429/5xx on a fixed policy; we switch
  it off (see :func:`_disable_sdk_retries`) and the control plane's too, and retry here with
  exponential backoff and jitter, honouring ``Retry-After``.
"""

from __future__ import annotations

import logging
import math
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Literal, TypeVar

import numpy as np
import numpy.typing as npt
import orjson
from pinecone import Pinecone, RetryConfig, SparseValues
from pinecone.errors.exceptions import (
    ApiError,
    ConflictError,
    NotFoundError,
    PineconeConnectionError,
    PineconeError,
    PineconeTimeoutError,
    RateLimitError,
)
from pinecone.index import Index
from pinecone.models.documents.document import Document
from pinecone.models.documents.score_by import DenseVectorQuery, SparseVectorQuery
from pinecone.models.indexes.index import IndexModel
from pinecone.models.indexes.schema import DenseVectorField, SparseVectorField

from lexi_pipelines.vectors.index import (
    Filter,
    IndexSpec,
    QueryMatch,
    SparseVector,
    VectorIndexError,
    VectorRecord,
    normalize_filter,
)

logger = logging.getLogger(__name__)

BACKEND = "pinecone"
DENSE_FIELD = "embedding"
SPARSE_FIELD = "sparse"
# A schema holding only these reserved names is served by the vectors API, not documents.
LEGACY_VECTOR_FIELDS = frozenset({"_values", "_sparse_values"})
# Per-request caps of the 2026-07 documents operations.
MAX_DOCUMENTS_PER_UPSERT = 1000
MAX_IDS_PER_REQUEST = 1000
MAX_TOP_K = 10_000
# 2 MB read as decimal megabytes: the stricter reading of the documented limit.
MAX_REQUEST_BYTES = 2_000_000
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
# Document operations need a non-empty namespace; ours is "" for "no partition".
DEFAULT_NAMESPACE = "__default__"
_ENVELOPE_BYTES = len(orjson.dumps({"documents": []}))

Metric = Literal["cosine", "dotproduct", "euclidean"]
T = TypeVar("T")
Hit = tuple[str, float, dict[str, Any]]


@dataclass(frozen=True)
class PineconeTuning:
    """Limits, retries and waits; the defaults suit production, tests shrink the delays."""

    create_if_missing: bool = True
    ready_timeout_s: float = 300.0
    ready_poll_s: float = 2.0
    max_workers: int = 4
    max_retries: int = 5
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    request_timeout_s: float = 30.0
    max_batch_records: int = MAX_DOCUMENTS_PER_UPSERT
    max_request_bytes: int = MAX_REQUEST_BYTES
    max_ids_per_request: int = MAX_IDS_PER_REQUEST
    # Each side of a hybrid query fetches top_k * this many candidates before fusion.
    hybrid_candidates: int = 4

    def __post_init__(self) -> None:
        if not 1 <= self.max_batch_records <= MAX_DOCUMENTS_PER_UPSERT:
            raise ValueError(f"max_batch_records must be 1..{MAX_DOCUMENTS_PER_UPSERT}")
        if not 1 <= self.max_ids_per_request <= MAX_IDS_PER_REQUEST:
            raise ValueError(f"max_ids_per_request must be 1..{MAX_IDS_PER_REQUEST}")
        if self.max_workers < 1 or self.max_retries < 0 or self.hybrid_candidates < 1:
            raise ValueError("max_workers and hybrid_candidates must be >= 1, max_retries >= 0")


def pinecone_index_name(name: str) -> str:
    """Pinecone accepts lowercase letters, digits and hyphens only, at most 45 characters."""
    candidate = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    if not candidate or len(candidate) > 45:
        raise VectorIndexError(f"cannot derive a Pinecone index name from {name!r}")
    return candidate


def index_schema(spec: IndexSpec) -> dict[str, Any]:
    """The ``schema=`` for ``indexes.create``: the dense field, plus the sparse one when hybrid.

    Metadata fields are deliberately absent: managed indexes refuse filter-only declarations
    and index every upserted metadata value for filtering anyway.
    """
    fields: dict[str, Any] = {
        DENSE_FIELD: {"type": "dense_vector", "dimension": spec.dimension, "metric": spec.metric}
    }
    if spec.hybrid:
        fields[SPARSE_FIELD] = {"type": "sparse_vector"}
    return {"fields": fields}


def to_pinecone_filter(where: Filter | None) -> dict[str, Any] | None:
    """``{"brand": "Acme", "cat": ["a", "b"]}`` -> ``$eq`` / ``$in`` clauses joined by ``$and``."""
    clauses: list[dict[str, Any]] = []
    for key, values in normalize_filter(where).items():
        if len(values) == 1:
            clauses.append({key: {"$eq": values[0]}})
        else:
            clauses.append({key: {"$in": values}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _min_max(hits: Sequence[Hit]) -> dict[str, float]:
    finite = [score for _, score, _ in hits if math.isfinite(score)]
    if not finite:
        return {vid: 0.0 for vid, _, _ in hits}
    low, high = min(finite), max(finite)
    span = high - low
    return {
        # A list whose scores are all equal: every entry is that list's best.
        vid: ((score - low) / span if span else 1.0) if math.isfinite(score) else 0.0
        for vid, score, _ in hits
    }


def fuse_hybrid(dense: Sequence[Hit], sparse: Sequence[Hit], alpha: float, top_k: int) -> list[Hit]:
    """Weighted convex combination of per-list min-max normalized scores (see module doc).

    Ties (e.g. every dense-only hit at ``alpha=0``) are broken by the other side's score, then id.
    """
    if not 0.0 <= alpha <= 1.0:
        raise VectorIndexError(f"alpha must be within [0, 1], got {alpha}")
    dense_norm, sparse_norm = _min_max(dense), _min_max(sparse)
    metadata = {vid: meta for vid, _, meta in [*sparse, *dense]}
    ranked = []
    for vid in metadata:
        d, s = dense_norm.get(vid, 0.0), sparse_norm.get(vid, 0.0)
        ranked.append((alpha * d + (1.0 - alpha) * s, d + s, vid))
    ranked.sort(key=lambda t: (-t[0], -t[1], t[2]))
    return [(vid, fused, metadata[vid]) for fused, _, vid in ranked[:top_k]]


def plan_batches(
    sizes: Sequence[int], *, envelope: int, max_records: int, max_bytes: int
) -> list[range]:
    """Greedy, order-preserving split so each request holds <= ``max_records`` records and
    ``envelope + sum(sizes) + commas`` <= ``max_bytes``."""
    batches: list[range] = []
    start = 0
    used = envelope
    for position, size in enumerate(sizes):
        count = position - start
        extra = size + (1 if count else 0)
        if count and (count >= max_records or used + extra > max_bytes):
            batches.append(range(start, position))
            start, used, extra = position, envelope, size
        used += extra
    if start < len(sizes):
        batches.append(range(start, len(sizes)))
    return batches


@dataclass(frozen=True)
class _WireDocument:
    """A record converted once: the document to send and its exact JSON size on the wire."""

    id: str
    document: dict[str, Any]
    size: int


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _unique(ids: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(ids))


def _describe_ids(ids: Sequence[str]) -> str:
    if not ids:
        return "no ids"
    if len(ids) == 1:
        return f"id {ids[0]!r}"
    return f"{len(ids)} ids {ids[0]!r}..{ids[-1]!r}"


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, ApiError):
        return f"HTTP {exc.status_code}: {exc.message}"
    if isinstance(exc, PineconeError):
        return f"{type(exc).__name__}: {exc.message}"
    return f"{type(exc).__name__}: {exc}"


def _wire_namespace(namespace: str) -> str:
    return namespace or DEFAULT_NAMESPACE


def _reserved_key(key: str) -> bool:
    return key in (DENSE_FIELD, SPARSE_FIELD) or key.startswith(("_", "$"))


def _metadata(document: Document) -> dict[str, Any]:
    return {k: v for k, v in document.to_dict().items() if not _reserved_key(k)}


def _disable_sdk_retries(index: Index) -> bool:
    """Rebuild the data-plane HTTP client with ``max_retries=0`` so our policy is the only one.

    ``Index`` takes no ``retry_config`` in 10.2 (its REST retries are fixed at 3), so this
    reaches into two private attributes. Call it before the first ``index.documents`` access:
    that namespace captures the client. If a later SDK renames them we keep its retries and
    log; our retries still work on top, just with more attempts than configured.
    """
    try:
        from pinecone._internal.config import PineconeConfig
        from pinecone._internal.constants import DATA_PLANE_API_VERSION
        from pinecone._internal.http_client import HTTPClient

        config = getattr(index, "_config", None)
        previous = getattr(index, "_http", None)
        if not isinstance(config, PineconeConfig) or not isinstance(previous, HTTPClient):
            raise TypeError("Index internals changed")
        index._http = HTTPClient(
            replace(config, retry_config=RetryConfig(max_retries=0)), DATA_PLANE_API_VERSION
        )
        previous.close()
        return True
    except (ImportError, TypeError, AttributeError) as exc:
        logger.warning("could not disable the pinecone SDK's own data-plane retries: %s", exc)
        return False


class PineconeVectorIndex:
    """One Pinecone serverless document index. Connecting creates it when missing and waits
    until ready.

    Records' ``text`` is not used: hybrid search needs ``sparse`` vectors (from our BM25
    encoder), stored in the schema's ``sparse_vector`` field.
    """

    backend: str = BACKEND

    def __init__(
        self,
        *,
        api_key: str,
        spec: IndexSpec,
        index_name: str | None = None,
        control_host: str | None = None,
        cloud: str = "aws",
        region: str = "us-east-1",
        tuning: PineconeTuning | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Connect, creating the index when missing (serverless in ``cloud``/``region``).

        ``index_name`` defaults to ``spec.name``; either is folded to Pinecone's ``[a-z0-9-]``.
        ``control_host`` is the control-plane URL; None uses the SDK's default
        (``PINECONE_CONTROLLER_HOST``, then https://api.pinecone.io). ``sleep`` is the pause
        between retries and ready polls (tests record it instead of waiting).
        """
        if not api_key:
            raise VectorIndexError("the Pinecone backend needs an API key")
        clashing = sorted(k for k in spec.metadata_fields if _reserved_key(k))
        if clashing:
            raise VectorIndexError(
                f"metadata fields {clashing} clash with the document's vector fields "
                f"({DENSE_FIELD!r}, {SPARSE_FIELD!r}) or reserved '_'/'$' names"
            )
        self.spec = spec
        self.tuning = tuning or PineconeTuning()
        self.name = pinecone_index_name(index_name or spec.name)
        self.cloud = cloud
        self.region = region
        self.metric: Metric = spec.metric
        self._sleep = sleep
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        # Our retry loop is the only one: control-plane retries off here, data-plane below.
        self._client = Pinecone(
            api_key=api_key,
            host=control_host,
            timeout=self.tuning.request_timeout_s,
            retry_config=RetryConfig(max_retries=0),
            connection_pool_maxsize=max(2 * self.tuning.max_workers, 10),
        )
        try:
            model = self._ensure_index()
            if model.host is None:
                raise VectorIndexError(f"Pinecone index {self.name!r} is ready but has no host")
            self.host = model.host
            self._index = self._client.index(host=model.host)
        except BaseException:
            self._client.close()
            raise
        _disable_sdk_retries(self._index)
        self._documents = self._index.documents  # after the client swap, see above

    # -- control plane -------------------------------------------------------------------------

    def _ensure_index(self) -> IndexModel:
        try:
            model = self._call(f"describe index {self.name!r}", self._describe)
        except _NotFound:
            if not self.tuning.create_if_missing:
                raise VectorIndexError(f"Pinecone index {self.name!r} does not exist") from None
            model = self._create()
        self._check_schema(model)
        return self._wait_until_ready(model)

    def _describe(self) -> IndexModel:
        try:
            return self._client.indexes.describe(self.name)
        except NotFoundError as exc:
            raise _NotFound() from exc

    def _create(self) -> IndexModel:
        logger.info("creating Pinecone index %r (%s)", self.name, index_schema(self.spec))

        def create() -> IndexModel:
            try:
                return self._client.indexes.create(
                    name=self.name,
                    schema=index_schema(self.spec),
                    deployment={
                        "deployment_type": "managed",
                        "cloud": self.cloud,
                        "region": self.region,
                    },
                    timeout=-1,  # we poll ourselves, at our own interval
                )
            except ConflictError:
                # Created concurrently, or our earlier attempt landed before its response was lost.
                return self._describe()

        return self._call(f"create index {self.name!r}", create)

    def _check_schema(self, model: IndexModel) -> None:
        fields = model.schema.fields
        legacy = sorted(LEGACY_VECTOR_FIELDS & set(fields))
        if legacy:
            raise VectorIndexError(
                f"Pinecone index {self.name!r} stores vectors in {legacy}, so it is served by the "
                "vectors API; this backend speaks the documents API. Recreate the index (or move "
                "its data: docs.pinecone.io/guides/indexes/move-to-the-documents-api)"
            )
        dense = fields.get(DENSE_FIELD)
        if not isinstance(dense, DenseVectorField):
            raise VectorIndexError(
                f"Pinecone index {self.name!r} has no dense_vector field {DENSE_FIELD!r} "
                f"(fields: {sorted(fields)}); recreate the index"
            )
        if dense.dimension != self.spec.dimension or dense.metric != self.metric:
            raise VectorIndexError(
                f"Pinecone index {self.name!r} is {dense.dimension}-d {dense.metric}, "
                f"the spec needs {self.spec.dimension}-d {self.metric}; recreate the index"
            )
        if self.spec.hybrid and not isinstance(fields.get(SPARSE_FIELD), SparseVectorField):
            raise VectorIndexError(
                f"Pinecone index {self.name!r} declares no sparse_vector field {SPARSE_FIELD!r}, "
                "so it cannot store sparse vectors; the schema cannot change, recreate the index"
            )

    def _wait_until_ready(self, model: IndexModel) -> IndexModel:
        deadline = time.monotonic() + self.tuning.ready_timeout_s
        while not model.status.ready:
            if model.status.state in ("InitializationFailed", "Terminating", "Disabled"):
                raise VectorIndexError(f"Pinecone index {self.name!r} is {model.status.state}")
            if time.monotonic() >= deadline:
                raise VectorIndexError(
                    f"Pinecone index {self.name!r} not ready after {self.tuning.ready_timeout_s}s"
                    f" (state {model.status.state})"
                )
            self._sleep(self.tuning.ready_poll_s)
            model = self._call(f"describe index {self.name!r}", self._describe)
        return model

    # -- retries and parallelism ---------------------------------------------------------------

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        ceiling = min(self.tuning.backoff_max_s, self.tuning.backoff_base_s * 2**attempt)
        # "Equal jitter": never less than half the exponential step, so backoff always grows.
        delay = ceiling / 2 + random.uniform(0, ceiling / 2)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.tuning.backoff_max_s))
        return delay

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        """Run ``fn`` with retries on 408/429/5xx/connection errors; others raise at once."""
        attempt = 0
        while True:
            try:
                return fn()
            except _NotFound:
                raise
            except ApiError as exc:
                if exc.status_code not in RETRYABLE_STATUS:
                    raise VectorIndexError(f"{what} failed: {_error_text(exc)}") from exc
                error: PineconeError = exc
                retry_after = exc.retry_after if isinstance(exc, RateLimitError) else None
            except (PineconeConnectionError, PineconeTimeoutError) as exc:
                error, retry_after = exc, None
            except PineconeError as exc:  # client-side validation: retrying cannot help
                raise VectorIndexError(f"{what} failed: {_error_text(exc)}") from exc
            if attempt >= self.tuning.max_retries:
                raise VectorIndexError(
                    f"{what} failed after {attempt + 1} attempts: {_error_text(error)}"
                ) from error
            delay = self._backoff(attempt, retry_after)
            logger.warning(
                "%s: %s; retry %d in %.2fs", what, _error_text(error), attempt + 1, delay
            )
            self._sleep(delay)
            attempt += 1

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    self.tuning.max_workers, thread_name_prefix=f"pinecone-{self.name}"
                )
            return self._pool

    def _run_parallel(self, what: str, jobs: Sequence[tuple[str, Callable[[], T]]]) -> list[T]:
        """Run labelled jobs on the pool; any failure raises one error naming every failed job.

        Once a job has failed, jobs not yet started are skipped: the call fails anyway.
        """
        if len(jobs) == 1:
            label, fn = jobs[0]
            return [self._call(f"{what} {label}", fn)]
        failed = threading.Event()

        def guarded(label: str, fn: Callable[[], T]) -> T:
            if failed.is_set():
                raise _Skipped()
            try:
                return self._call(f"{what} {label}", fn)
            except BaseException:
                failed.set()
                raise

        futures: list[Future[T]] = [
            self._executor().submit(guarded, label, fn) for label, fn in jobs
        ]
        results: list[T] = []
        errors: list[str] = []
        skipped = 0
        for future in futures:
            try:
                results.append(future.result())
            except _Skipped:
                skipped += 1
            except VectorIndexError as exc:
                errors.append(str(exc))
        if errors or skipped:
            done = len(jobs) - len(errors) - skipped
            raise VectorIndexError(
                f"{what}: {len(errors)} of {len(jobs)} requests failed, {skipped} not sent, "
                f"{done} succeeded: " + "; ".join(errors)
            )
        return results

    # -- data plane ----------------------------------------------------------------------------

    def _dense(self, vector: npt.NDArray[np.float32], what: str) -> list[float]:
        values = np.asarray(vector, dtype=np.float32).reshape(-1)
        if values.shape[0] != self.spec.dimension:
            raise VectorIndexError(
                f"{what}: vector has dimension {values.shape[0]}, index needs {self.spec.dimension}"
            )
        out: list[float] = values.tolist()
        return out

    def _wire(self, record: VectorRecord) -> _WireDocument:
        document: dict[str, Any] = {
            "_id": record.id,
            DENSE_FIELD: self._dense(record.vector, f"record {record.id!r}"),
        }
        if record.sparse is not None and record.sparse.indices:
            if not self.spec.hybrid:
                raise VectorIndexError(
                    f"record {record.id!r} has a sparse vector, index {self.name!r} is not hybrid"
                )
            document[SPARSE_FIELD] = {
                "indices": list(record.sparse.indices),
                "values": list(record.sparse.values),
            }
        for key, value in record.metadata.items():
            if _reserved_key(key):
                raise VectorIndexError(
                    f"record {record.id!r}: metadata key {key!r} is reserved in a document "
                    f"(vector fields {DENSE_FIELD!r}/{SPARSE_FIELD!r}, '_' and '$' prefixes)"
                )
            document[key] = value
        # Same encoder and key order as the SDK's request body, so the size is exact.
        return _WireDocument(record.id, document, len(orjson.dumps(document)))

    def upsert(self, namespace: str, records: Sequence[VectorRecord]) -> int:
        """Write in parallel batches; any batch still failing after retries raises.

        Batches that landed before the failure stay written (upserts are idempotent, so rerun).
        """
        if not records:
            return 0
        ids = [r.id for r in records]
        if len(set(ids)) != len(ids):
            # The documents API refuses duplicates within a request; across batches the
            # surviving copy would depend on timing. Make both an error up front.
            raise VectorIndexError(f"upsert into {namespace!r}: duplicate record ids")
        wire = [self._wire(r) for r in records]
        for item in wire:
            if _ENVELOPE_BYTES + item.size > self.tuning.max_request_bytes:
                raise VectorIndexError(
                    f"record {item.id!r} serializes to {item.size} bytes, over the "
                    f"{self.tuning.max_request_bytes}-byte request limit; shrink its metadata"
                )
        batches = plan_batches(
            [w.size for w in wire],
            envelope=_ENVELOPE_BYTES,
            max_records=self.tuning.max_batch_records,
            max_bytes=self.tuning.max_request_bytes,
        )
        target = _wire_namespace(namespace)

        def send(batch: Sequence[_WireDocument]) -> Callable[[], int]:
            def run() -> int:
                response = self._documents.upsert(
                    namespace=target,
                    documents=[w.document for w in batch],
                    timeout=self.tuning.request_timeout_s,
                )
                if response.upserted_count != len(batch):
                    raise VectorIndexError(
                        f"Pinecone acknowledged {response.upserted_count} of {len(batch)} records"
                    )
                return response.upserted_count

            return run

        jobs = []
        for number, span in enumerate(batches, start=1):
            batch = wire[span.start : span.stop]
            label = f"batch {number}/{len(batches)} ({_describe_ids([w.id for w in batch])})"
            jobs.append((label, send(batch)))
        return sum(self._run_parallel(f"upsert into {self.name}/{namespace!r}", jobs))

    def delete(self, namespace: str, ids: Sequence[str]) -> int:
        unique = _unique(ids)
        if not unique:
            return 0
        target = _wire_namespace(namespace)

        def send(chunk: Sequence[str]) -> Callable[[], None]:
            def run() -> None:
                self._documents.delete(
                    namespace=target, ids=list(chunk), timeout=self.tuning.request_timeout_s
                )

            return run

        chunks = list(_chunks(unique, self.tuning.max_ids_per_request))
        self._run_parallel(
            f"delete from {self.name}/{namespace!r}",
            [(_describe_ids(chunk), send(chunk)) for chunk in chunks],
        )
        return len(unique)

    def delete_where(self, namespace: str, where: Filter) -> None:
        pinecone_filter = self._filter(where)
        if pinecone_filter is None:
            # An empty filter would be "everything"; make that an explicit delete_namespace.
            raise VectorIndexError("delete_where needs a non-empty filter")
        if pinecone_filter is _MATCHES_NOTHING:
            return
        self._call(
            f"delete from {self.name}/{namespace!r} where {pinecone_filter}",
            lambda: self._documents.delete(
                namespace=_wire_namespace(namespace),
                filter=pinecone_filter,
                timeout=self.tuning.request_timeout_s,
            ),
        )

    def delete_namespace(self, namespace: str) -> None:
        def run() -> None:
            try:
                if namespace:
                    self._index.delete_namespace(
                        name=namespace, timeout=self.tuning.request_timeout_s
                    )
                else:  # our default partition: empty it, leave the name in place
                    self._documents.delete(
                        namespace=DEFAULT_NAMESPACE,
                        delete_all=True,
                        timeout=self.tuning.request_timeout_s,
                    )
            except NotFoundError:
                pass  # already gone

        self._call(f"delete namespace {self.name}/{namespace!r}", run)

    def _filter(self, where: Filter | None) -> dict[str, Any] | None:
        declared = self.spec.metadata_fields
        normalized = normalize_filter(where)
        unknown = sorted(set(normalized) - set(declared)) if declared else []
        if unknown:
            raise VectorIndexError(
                f"filter names undeclared metadata fields {unknown} of index {self.name!r}"
            )
        if any(not values for values in normalized.values()):
            return _MATCHES_NOTHING  # ``field in []``; Pinecone refuses an empty $in
        return to_pinecone_filter(where)

    def _search(
        self,
        namespace: str,
        clause: DenseVectorQuery | SparseVectorQuery,
        top_k: int,
        pinecone_filter: dict[str, Any] | None,
    ) -> list[Hit]:
        response = self._documents.search(
            namespace=_wire_namespace(namespace),
            score_by=[clause],
            top_k=top_k,
            include_fields=["*"],
            filter=pinecone_filter,
            timeout=self.tuning.request_timeout_s,
        )
        # ``_score`` is null when not finite; rank such a hit last.
        return [
            (d.id, float("-inf") if d.score is None else d.score, _metadata(d))
            for d in response.matches
        ]

    def _dense_higher_is_better(self, hits: list[Hit]) -> list[Hit]:
        """Euclidean scores are distances (lower is closer) under the vectors API; matches come
        most similar first, so ascending scores reveal a distance, which we negate."""
        if self.metric != "euclidean":
            return hits
        scores = [score for _, score, _ in hits]
        if len(scores) > 1 and scores[0] > scores[-1]:
            return hits  # already similarities
        return [(vid, -score, meta) for vid, score, meta in hits]

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
        """Dense search; with ``sparse`` (hybrid indexes) a fused dense + sparse search whose
        scores are in [0, 1] (see the module doc)."""
        if not 1 <= top_k <= MAX_TOP_K:
            raise VectorIndexError(f"top_k must be within 1..{MAX_TOP_K}, got {top_k}")
        if text is not None and sparse is None:
            raise VectorIndexError(
                "the Pinecone backend has no full-text index; pass a sparse query vector"
            )
        use_sparse = sparse is not None and bool(sparse.indices)
        if use_sparse and not self.spec.hybrid:
            raise VectorIndexError(f"index {self.name!r} is not hybrid; no sparse queries")
        if use_sparse and not 0.0 <= alpha <= 1.0:
            raise VectorIndexError(f"alpha must be within [0, 1], got {alpha}")
        pinecone_filter = self._filter(where)
        if pinecone_filter is _MATCHES_NOTHING:
            return []
        dense_clause = DenseVectorQuery(field=DENSE_FIELD, values=self._dense(vector, "query"))
        what = f"query {self.name}/{namespace!r}"

        if sparse is None or not use_sparse or alpha >= 1.0:  # at alpha=1 sparse cannot matter
            hits = self._call(
                what, lambda: self._search(namespace, dense_clause, top_k, pinecone_filter)
            )
            return [QueryMatch(v, s, m) for v, s, m in self._dense_higher_is_better(hits)]

        # At alpha=0 the dense side still runs: it orders the hits the sparse side missed.
        depth = min(MAX_TOP_K, top_k * self.tuning.hybrid_candidates)
        sparse_clause = SparseVectorQuery(
            field=SPARSE_FIELD,
            sparse_values=SparseValues(indices=list(sparse.indices), values=list(sparse.values)),
        )
        dense_hits, sparse_hits = self._run_parallel(
            what,
            [
                (
                    "dense search",
                    lambda: self._search(namespace, dense_clause, depth, pinecone_filter),
                ),
                (
                    "sparse search",
                    lambda: self._search(namespace, sparse_clause, depth, pinecone_filter),
                ),
            ],
        )
        fused = fuse_hybrid(self._dense_higher_is_better(dense_hits), sparse_hits, alpha, top_k)
        return [QueryMatch(v, s, m) for v, s, m in fused]

    def fetch(self, namespace: str, ids: Sequence[str]) -> dict[str, Mapping[str, Any]]:
        """Metadata of the given ids; documents come back whole, vector fields are dropped."""
        return self._fetch(namespace, ids, None, _metadata)

    def fetch_vectors(
        self, namespace: str, ids: Sequence[str]
    ) -> dict[str, npt.NDArray[np.float32]]:
        """Stored dense vectors. Re-upserting a record replaces the whole document, sparse
        vector and metadata included: carry them along."""
        return self._fetch(
            namespace,
            ids,
            [DENSE_FIELD],
            lambda d: np.asarray(d.get(DENSE_FIELD), dtype=np.float32),
        )

    def _fetch(
        self,
        namespace: str,
        ids: Sequence[str],
        include_fields: list[str] | None,
        convert: Callable[[Document], T],
    ) -> dict[str, T]:
        unique = _unique(ids)
        if not unique:
            return {}
        target = _wire_namespace(namespace)

        def send(chunk: Sequence[str]) -> Callable[[], dict[str, T]]:
            def run() -> dict[str, T]:
                response = self._documents.fetch(
                    namespace=target,
                    ids=list(chunk),
                    include_fields=include_fields,
                    timeout=self.tuning.request_timeout_s,
                )
                return {vid: convert(d) for vid, d in response.documents.items()}

            return run

        jobs = [
            (_describe_ids(chunk), send(chunk))
            for chunk in _chunks(unique, self.tuning.max_ids_per_request)
        ]
        found: dict[str, T] = {}
        for part in self._run_parallel(f"fetch from {self.name}/{namespace!r}", jobs):
            found.update(part)
        return found

    def count(self, namespace: str) -> int:
        def run() -> int:
            try:
                description = self._index.describe_namespace(name=_wire_namespace(namespace))
            except NotFoundError:
                return 0  # a namespace exists once something was written to it
            return int(description.record_count)

        return self._call(f"describe namespace {self.name}/{namespace!r}", run)

    def stats(self) -> dict[str, Any]:
        stats = self._call(
            f"describe index stats {self.name}",
            lambda: self._index.describe_index_stats(timeout=self.tuning.request_timeout_s),
        )
        namespaces = {
            ("" if name == DEFAULT_NAMESPACE else name): int(summary.vector_count)
            for name, summary in stats.namespaces.items()
        }
        return {
            "backend": self.backend,
            "name": self.name,
            "dimension": self.spec.dimension,
            "metric": self.metric,
            "hybrid": self.spec.hybrid,
            "namespaces": namespaces,
            "total": int(stats.total_vector_count),
        }

    def close(self) -> None:
        with self._pool_lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None
        self._index.close()
        self._client.close()


class _NotFound(Exception):
    """Describe found no index; kept out of the retry loop's error translation."""


class _Skipped(Exception):
    """A parallel job not started because a sibling had already failed."""


# Sentinel filter for ``field in []``: nothing can match, so no request is sent.
_MATCHES_NOTHING: dict[str, Any] = {"$matches_nothing": True}
