"""A loopback stand-in for Pinecone (API 2026-07) that the real ``pinecone`` SDK can talk to.

One HTTP server plays the control plane (``/indexes``); each created index gets its own data-plane
server on another port, as real indexes get their own hosts (``http://127.0.0.1:<port>``, with the
scheme, or the SDK would assume https). Storage is in memory and scoring is exact.

It models 2026-07's split between the two data APIs, as the OpenAPI spec describes it
(pinecone-io/pinecone-api ``2026-07/db_*_2026-07.oas.yaml``):

* ``POST /indexes`` takes a typed schema. Managed indexes accept only searched fields
  (``dense_vector``, ``sparse_vector``, ``string`` with ``full_text_search``); a filter-only
  declaration is a 400 and a schema-less ``string`` a 422, as Pinecone answers.
* An index whose schema names vector fields other than the reserved ``_values`` /
  ``_sparse_values`` is a *document index*: it serves ``/namespaces/{ns}/documents/*``, index stats
  and the namespace operations, and refuses the vectors API with a 400 ("This index has a document
  schema, so writes must go through the documents API"). An index of reserved fields only is a
  vectors-API index: the stand-in refuses document operations on it and does not serve its vector
  operations (not modelled).

Requests are validated the way Pinecone documents them (Api-Key, version header, <= 1,000
documents and <= 2 MB per upsert (413 over the size), <= 1,000 ids per fetch/delete, dimensions,
sparse values only in a declared ``sparse_vector`` field, a lone vector clause in ``score_by``),
so client bugs surface as the errors production would send. Documents and records operations
answer errors as ``{"error": {"code", "message"}, "status"}``, vector/namespace operations as
``rpcStatus``, and 401/429 as plain text (they come from the gateway). Every request is logged;
:meth:`PineconeStandIn.inject` makes chosen requests fail.

Not modelled: full-text search and text clauses, integrated embedding, imports, aliases,
documents list/update, the vector operations of vectors-API indexes.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

API_VERSION = "2026-07"
DEFAULT_NAMESPACE = "__default__"
RESERVED_VECTOR_FIELDS = ("_values", "_sparse_values")
DOCUMENT_SCHEMA_WRITE = (
    "This index has a document schema, so writes must go through the documents API "
    "(POST /namespaces/{namespace}/documents/upsert, .../documents/delete)"
)
DOCUMENT_SCHEMA_READ = (
    "This index has a document schema, so reads must go through the documents API "
    "(POST /namespaces/{namespace}/documents/search, .../documents/fetch)"
)
SEARCH_FIELDS_ONLY = (
    "The schema only accepts fields used for search (field types `dense_vector`, "
    "`sparse_vector`, and `string` with `full_text_search` configuration). To use field '{name}' "
    "for filtering (field types `boolean`, `float`, `string`, or `string_list`), omit it from the "
    "schema and include it in documents. It will be indexed automatically."
)
_NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,43}[a-z0-9])?$")
_ID_RE = re.compile(r"^[\x01-\x7F]{1,512}$")
_DOCS_RE = re.compile(r"/namespaces/([^/]+)/documents/([a-z_]+)")
_METRICS = ("cosine", "dotproduct", "euclidean")
_VECTOR_WRITES = ("/vectors/upsert", "/vectors/update", "/vectors/delete")
_VECTOR_READS = ("/query", "/vectors/fetch", "/vectors/list", "/vectors/fetch_by_metadata")
_MAX_SPARSE = 2048
# gRPC-style codes Pinecone puts in rpcStatus error bodies.
_RPC_CODES = {400: 3, 401: 16, 404: 5, 409: 6, 413: 3, 429: 8, 500: 13, 501: 12, 503: 14}
_ERROR_CODES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    413: "PAYLOAD_TOO_LARGE",
    422: "UNPROCESSABLE_ENTITY",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "SERVICE_UNAVAILABLE",
}


class StandInError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body_bytes: int
    body: Any  # parsed JSON, or None
    status: int
    at: float  # time.monotonic() when the request arrived
    index: str | None  # None for the control plane


@dataclass
class Fault:
    """Answer ``status`` to matching requests: skip the first ``after``, then fail ``times``."""

    path: str
    status: int
    times: int = 1
    after: int = 0
    method: str | None = None
    match: Callable[[Any], bool] | None = None
    message: str | None = None
    retry_after: float | None = None
    hits: int = 0


@dataclass
class _IndexState:
    name: str
    schema: dict[str, Any]
    deployment: dict[str, Any]
    server: ThreadingHTTPServer
    host: str
    describes_until_ready: int
    # namespace -> id -> document (``_id`` included)
    namespaces: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def fields(self) -> dict[str, dict[str, Any]]:
        fields: dict[str, dict[str, Any]] = self.schema["fields"]
        return fields

    @property
    def documents_api(self) -> bool:
        return any(name not in RESERVED_VECTOR_FIELDS for name in self.fields)

    def fields_of(self, kind: str) -> dict[str, dict[str, Any]]:
        return {n: f for n, f in self.fields.items() if f.get("type") == kind}

    def model(self) -> dict[str, Any]:
        ready = self.describes_until_ready <= 0
        return {
            "name": self.name,
            "host": self.host,
            "status": {"ready": ready, "state": "Ready" if ready else "Initializing"},
            "schema": self.schema,
            "deployment": self.deployment,
            "deletion_protection": "disabled",
            "tags": None,
        }


class PineconeStandIn:
    def __init__(
        self,
        *,
        api_key: str = "standin-key",
        max_upsert_documents: int = 1000,
        max_request_bytes: int = 2 * 1024 * 1024,
        max_ids: int = 1000,
        describes_until_ready: int = 1,
    ) -> None:
        self.api_key = api_key
        self.max_upsert_documents = max_upsert_documents
        self.max_request_bytes = max_request_bytes
        self.max_ids = max_ids
        self.describes_until_ready = describes_until_ready
        self.indexes: dict[str, _IndexState] = {}
        self.requests: list[LoggedRequest] = []
        self.faults: list[Fault] = []
        self._lock = threading.Lock()
        self._control = self._serve(None)

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def controller_url(self) -> str:
        return f"http://127.0.0.1:{self._control.server_address[1]}"

    def _serve(self, index_name: str | None) -> ThreadingHTTPServer:
        standin = self

        class Handler(_Handler):
            owner = standin
            index = index_name

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        # A short poll interval keeps shutdown() (and so test teardown) fast.
        threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
        return server

    def close(self) -> None:
        for state in list(self.indexes.values()):
            state.server.shutdown()
            state.server.server_close()
        self._control.shutdown()
        self._control.server_close()

    def __enter__(self) -> PineconeStandIn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- test helpers -------------------------------------------------------------------------

    def inject(self, path: str, status: int, **options: Any) -> Fault:
        fault = Fault(path=path, status=status, **options)
        with self._lock:
            self.faults.append(fault)
        return fault

    def requests_to(self, path: str, method: str | None = None) -> list[LoggedRequest]:
        with self._lock:
            return [
                r
                for r in self.requests
                if r.path == path and (method is None or r.method == method)
            ]

    def stored(self, index: str, namespace: str = "") -> dict[str, dict[str, Any]]:
        state = self.indexes[index]
        with state.lock:
            return dict(state.namespaces.get(namespace or DEFAULT_NAMESPACE, {}))

    def _fault_for(self, method: str, path: str, body: Any) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.path != path or (fault.method and fault.method != method):
                    continue
                if fault.match is not None and not fault.match(body):
                    continue
                fault.hits += 1
                if fault.after < fault.hits <= fault.after + fault.times:
                    return fault
        return None

    def _log(self, entry: LoggedRequest) -> None:
        with self._lock:
            self.requests.append(entry)

    # -- control plane ------------------------------------------------------------------------

    def control(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if path == "/indexes" and method == "GET":
            return 200, {"indexes": [s.model() for s in list(self.indexes.values())]}
        if path == "/indexes" and method == "POST":
            return 201, self._create(body)
        match = re.fullmatch(r"/indexes/([^/]+)", path)
        if match is None:
            raise StandInError(404, f"no route {method} {path}")
        name = unquote(match.group(1))
        state = self.indexes.get(name)
        if state is None:
            raise StandInError(404, f"Resource {name} not found")
        if method == "GET":
            with state.lock:
                state.describes_until_ready -= 1
                return 200, state.model()
        if method == "DELETE":
            with self._lock:
                self.indexes.pop(name, None)
            state.server.shutdown()
            state.server.server_close()
            return 202, None
        raise StandInError(405, f"{method} not allowed on {path}")

    def _create(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise StandInError(400, "request body must be a JSON object")
        name = body.get("name")
        if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
            raise StandInError(400, f"invalid index name {name!r}")
        fields = (body.get("schema") or {}).get("fields")
        if not isinstance(fields, dict) or not fields:
            raise StandInError(400, "schema.fields must declare at least one searched field")
        counts = {"dense_vector": 0, "sparse_vector": 0}
        for field_name, spec in fields.items():
            _check_schema_field(field_name, spec)
            if spec["type"] in counts:
                counts[spec["type"]] += 1
        if counts["dense_vector"] > 1 or counts["sparse_vector"] > 1:
            raise StandInError(400, "an index holds at most one dense and one sparse vector field")
        reserved = [n for n in fields if n in RESERVED_VECTOR_FIELDS]
        if reserved and len(reserved) != len(fields):
            raise StandInError(400, f"reserved fields {reserved} cannot be mixed with others")
        deployment = body.get("deployment") or {
            "deployment_type": "managed",
            "cloud": "aws",
            "region": "us-east-1",
        }
        if deployment.get("deployment_type") != "managed":
            raise StandInError(400, "the stand-in only creates managed (serverless) indexes")
        with self._lock:
            if name in self.indexes:
                raise StandInError(409, f"Resource {name} already exists")
            server = self._serve(name)
            state = _IndexState(
                name=name,
                schema={"fields": fields},
                deployment=deployment,
                server=server,
                host=f"http://127.0.0.1:{server.server_address[1]}",
                describes_until_ready=self.describes_until_ready,
            )
            self.indexes[name] = state
        return state.model()

    # -- data plane ---------------------------------------------------------------------------

    def data(
        self, index: str, method: str, path: str, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        state = self.indexes.get(index)
        if state is None:
            raise StandInError(404, f"index {index} was deleted")
        documents = _DOCS_RE.fullmatch(path)
        if documents is not None and method == "POST":
            if not state.documents_api:
                raise StandInError(
                    400,
                    "This index is served by the vectors API; document operations need an "
                    "index created with a document schema",
                )
            namespace = _namespace(unquote(documents.group(1)))
            operation = documents.group(2)
            if not isinstance(body, dict):
                raise StandInError(400, "request body must be a JSON object")
            if operation == "upsert":
                return 202, self._upsert(state, namespace, body)
            if operation == "search":
                return 200, self._search(state, namespace, body)
            if operation == "fetch":
                return 200, self._fetch(state, namespace, body)
            if operation == "delete":
                return 202, self._delete(state, namespace, body)
            raise StandInError(404, f"documents operation {operation!r} is not modelled")
        if path in _VECTOR_WRITES or path in _VECTOR_READS:
            if state.documents_api:
                raise StandInError(
                    400, DOCUMENT_SCHEMA_WRITE if path in _VECTOR_WRITES else DOCUMENT_SCHEMA_READ
                )
            raise StandInError(501, "the stand-in does not model vectors-API data operations")
        if (method, path) == ("POST", "/describe_index_stats"):
            return 200, self._stats(state, body)
        if (method, path) == ("GET", "/namespaces"):
            with state.lock:
                listed = [_describe_ns(n, d) for n, d in sorted(state.namespaces.items())]
            return 200, {"namespaces": listed, "total_count": len(listed)}
        match = re.fullmatch(r"/namespaces/([^/]+)", path)
        if match is not None and method in ("GET", "DELETE"):
            namespace = _namespace(unquote(match.group(1)))
            with state.lock:
                if method == "DELETE":
                    found = state.namespaces.pop(namespace, None)
                else:
                    found = state.namespaces.get(namespace)
                if found is None:
                    raise StandInError(404, f"Namespace {namespace} not found")
                return 200, {} if method == "DELETE" else _describe_ns(namespace, found)
        raise StandInError(404, f"no route {method} {path}")

    def _upsert(self, state: _IndexState, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        documents = body.get("documents")
        if not isinstance(documents, list) or not documents:
            raise StandInError(400, "documents must be a non-empty array")
        if len(documents) > self.max_upsert_documents:
            raise StandInError(
                400,
                f"Upsert of {len(documents)} documents exceeds the limit of "
                f"{self.max_upsert_documents} documents per request",
            )
        parsed: dict[str, dict[str, Any]] = {}
        for position, document in enumerate(documents):
            where = f"documents[{position}]"
            doc_id = document.get("_id") if isinstance(document, dict) else None
            if not isinstance(doc_id, str) or not _ID_RE.fullmatch(doc_id):
                raise StandInError(400, f"{where}: '_id' must be 1-512 ASCII characters")
            if doc_id in parsed:
                raise StandInError(400, f"{where}: duplicate '_id' {doc_id!r} in one request")
            stored: dict[str, Any] = {"_id": doc_id}
            for key, value in document.items():
                if key == "_id":
                    continue
                if key.startswith(("_", "$")):
                    raise StandInError(400, f"{where}: field name {key!r} is reserved")
                declared = state.fields.get(key)
                kind = declared.get("type") if declared else None
                if kind == "dense_vector":
                    stored[key] = _dense_values(state, key, value, f"{where}.{key}")
                elif kind == "sparse_vector":
                    stored[key] = _sparse_values(value, f"{where}.{key}")
                elif _is_metadata(value):
                    # Pinecone stores numbers as 64-bit floats.
                    stored[key] = float(value) if _is_number(value) else value
                else:
                    raise StandInError(
                        400,
                        f"{where}: field {key!r} is not declared as a vector field; metadata "
                        "value must be a string, number, boolean or list of strings",
                    )
            missing = sorted(set(state.fields_of("dense_vector")) - set(stored))
            if missing:
                raise StandInError(400, f"{where} ({doc_id!r}) lacks required fields {missing}")
            parsed[doc_id] = stored
        with state.lock:
            state.namespaces.setdefault(namespace, {}).update(parsed)
        return {"upserted_count": len(documents)}

    def _search(self, state: _IndexState, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        score_by = body.get("score_by")
        if not isinstance(score_by, list) or not score_by:
            raise StandInError(400, "score_by must hold at least one scoring method")
        kinds = [c.get("type") if isinstance(c, dict) else None for c in score_by]
        if len(score_by) > 1 and any(k in ("dense_vector", "sparse_vector") for k in kinds):
            raise StandInError(
                400, "a dense_vector or sparse_vector clause must appear alone in score_by"
            )
        top_k = body.get("top_k")
        if not isinstance(top_k, int) or isinstance(top_k, bool) or not 1 <= top_k <= 10_000:
            raise StandInError(400, "top_k must be within 1..10000")
        clause = score_by[0]
        target = clause.get("field") or (clause.get("fields") or [None])[0]
        declared = state.fields.get(target) if isinstance(target, str) else None
        matcher = _compile_filter(body.get("filter"), set(state.fields))
        with state.lock:
            documents = [d for d in state.namespaces.get(namespace, {}).values() if matcher(d)]
        if kinds[0] == "dense_vector":
            if declared is None or declared.get("type") != "dense_vector":
                raise StandInError(400, f"field {target!r} is not a dense_vector field")
            query = _dense_values(state, target, clause.get("values"), "score_by[0].values")
            metric = declared["metric"]
            scored = [(d, _dense_score(metric, query, d[target])) for d in documents]
            # Like the vectors API: euclidean scores are squared distances, nearest first.
            scored.sort(key=lambda t: t[1], reverse=metric != "euclidean")
        elif kinds[0] == "sparse_vector":
            if declared is None or declared.get("type") != "sparse_vector":
                raise StandInError(400, f"field {target!r} is not a sparse_vector field")
            query_sparse = _sparse_values(clause.get("sparse_values"), "score_by[0].sparse_values")
            weights = dict(zip(query_sparse["indices"], query_sparse["values"], strict=True))
            scored = []
            for document in documents:
                stored = document.get(target)
                if not stored:
                    continue
                shared = set(weights) & set(stored["indices"])
                if shared:  # only documents sharing a term match a sparse clause
                    values = dict(zip(stored["indices"], stored["values"], strict=True))
                    scored.append((document, sum(weights[i] * values[i] for i in shared)))
            scored.sort(key=lambda t: t[1], reverse=True)
        else:
            raise StandInError(400, f"scoring type {kinds[0]!r} is not modelled by the stand-in")
        include = _include(body.get("include_fields"), default_all=False)
        matches = [
            {"_id": d["_id"], "_score": score, **_project(d, include)}
            for d, score in scored[:top_k]
        ]
        return {"matches": matches, "namespace": namespace, "usage": {"read_units": 1}}

    def _fetch(self, state: _IndexState, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        ids, filter_ = body.get("ids"), body.get("filter")
        if (ids is None) == (filter_ is None):
            raise StandInError(400, "exactly one of 'ids' or 'filter' is required")
        include = _include(body.get("include_fields"), default_all=True)
        with state.lock:
            stored = dict(state.namespaces.get(namespace, {}))
        response: dict[str, Any] = {"namespace": namespace, "usage": {"read_units": 1}}
        if ids is not None:
            if not isinstance(ids, list) or not ids:
                raise StandInError(400, "ids must be a non-empty array")
            if len(ids) > self.max_ids:
                raise StandInError(
                    400, f"Fetch of {len(ids)} ids exceeds the limit of {self.max_ids}"
                )
            found = [stored[i] for i in ids if i in stored]
        else:
            if not filter_:
                raise StandInError(400, "filter must not be empty")
            matcher = _compile_filter(filter_, set(state.fields))
            matching = [stored[i] for i in sorted(stored) if matcher(stored[i])]
            start = int(body.get("pagination_token") or 0)
            limit = int(body.get("limit") or 100)
            found = matching[start : start + limit]
            if start + limit < len(matching):
                response["pagination"] = {"next": str(start + limit)}
        response["documents"] = {d["_id"]: {"_id": d["_id"], **_project(d, include)} for d in found}
        return response

    def _delete(self, state: _IndexState, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        ids, filter_, delete_all = body.get("ids"), body.get("filter"), body.get("delete_all")
        if sum(x is not None and x is not False for x in (ids, filter_, delete_all)) != 1:
            raise StandInError(400, "exactly one of ids, filter, delete_all is required")
        if ids is not None and len(ids) > self.max_ids:
            raise StandInError(400, f"Delete of {len(ids)} ids exceeds the limit of {self.max_ids}")
        if filter_ is not None and not filter_:
            raise StandInError(400, "Delete with an empty filter is not allowed; use delete_all")
        matcher = _compile_filter(filter_, set(state.fields)) if filter_ is not None else None
        with state.lock:
            stored = state.namespaces.get(namespace, {})
            if delete_all:
                stored.clear()
            elif ids is not None:
                for doc_id in ids:
                    stored.pop(doc_id, None)
            elif matcher is not None:
                doomed = [i for i, d in stored.items() if matcher(d)]
                for doc_id in doomed:
                    del stored[doc_id]
                return {"matched_records": len(doomed)}
        return {}

    def _stats(self, state: _IndexState, body: Any) -> dict[str, Any]:
        if isinstance(body, dict) and body.get("filter"):
            raise StandInError(400, "describe_index_stats does not accept a filter")
        with state.lock:
            counts = {ns: len(docs) for ns, docs in state.namespaces.items() if docs}
        dense = next(iter(state.fields_of("dense_vector").values()), None)
        stats: dict[str, Any] = {
            "namespaces": {ns: {"vectorCount": n} for ns, n in counts.items()},
            "indexFullness": 0.0,
            "totalVectorCount": sum(counts.values()),
        }
        if dense is not None:
            stats |= {"dimension": dense["dimension"], "metric": dense["metric"]}
        return stats


def _check_schema_field(name: str, spec: Any) -> None:
    kind = spec.get("type") if isinstance(spec, dict) else None
    if not isinstance(name, str) or not name or name.startswith("$"):
        raise StandInError(400, f"invalid field name {name!r}")
    if name.startswith("_") and name not in RESERVED_VECTOR_FIELDS:
        raise StandInError(400, f"field name {name!r}: names beginning with '_' are reserved")
    if kind == "dense_vector":
        dimension, metric = spec.get("dimension"), spec.get("metric")
        if not isinstance(dimension, int) or not 1 <= dimension <= 20_000:
            raise StandInError(400, f"field {name!r}: invalid dimension")
        if metric not in _METRICS:
            raise StandInError(400, f"field {name!r}: invalid metric {metric!r}")
    elif kind == "sparse_vector":
        extra = set(spec) - {"type", "description"}
        if extra:
            raise StandInError(400, f"sparse field {name!r} takes no {sorted(extra)}")
    elif kind == "string" and "full_text_search" in spec and not spec.get("filterable"):
        pass
    elif kind in ("string", "float", "boolean", "string_list") and (
        kind != "string" or "filterable" in spec
    ):
        raise StandInError(400, SEARCH_FIELDS_ONLY.format(name=name))
    else:
        # What serde answers when no schema variant matches (integer, bare string...).
        raise StandInError(
            422, f"Failed to deserialize the JSON body: schema.fields.{name}: no matching variant"
        )


def _namespace(name: str) -> str:
    if not name or not re.fullmatch(r"[\x01-\x7F]{1,512}", name):
        raise StandInError(400, "namespace must be 1-512 ASCII characters")
    return name


def _describe_ns(name: str, documents: dict[str, Any]) -> dict[str, Any]:
    # record_count and size_bytes are uint64 serialized as strings.
    return {"name": name, "record_count": str(len(documents)), "size_bytes": "0"}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_metadata(value: Any) -> bool:
    if isinstance(value, list):
        return all(isinstance(v, str) for v in value)
    return isinstance(value, str | bool) or (_is_number(value) and math.isfinite(value))


def _dense_values(state: _IndexState, name: str, raw: Any, where: str) -> list[float]:
    dimension = state.fields[name]["dimension"]
    if not isinstance(raw, list) or not all(_is_number(v) for v in raw):
        raise StandInError(400, f"{where}: a dense_vector value is an array of numbers")
    if len(raw) != dimension:
        raise StandInError(
            400, f"{where}: vector dimension {len(raw)} does not match the field's {dimension}"
        )
    return [float(v) for v in raw]


def _sparse_values(raw: Any, where: str) -> dict[str, list[Any]]:
    indices = raw.get("indices") if isinstance(raw, dict) else None
    values = raw.get("values") if isinstance(raw, dict) else None
    if not isinstance(indices, list) or not isinstance(values, list) or not indices:
        raise StandInError(400, f"{where}: sparse values need non-empty indices and values")
    if len(indices) != len(values) or len(set(indices)) != len(indices):
        raise StandInError(400, f"{where}: sparse indices must be unique and match values")
    if len(indices) > _MAX_SPARSE:
        raise StandInError(400, f"{where}: at most {_MAX_SPARSE} sparse entries")
    if not all(isinstance(i, int) and 0 <= i <= 0xFFFFFFFF for i in indices):
        raise StandInError(400, f"{where}: sparse indices must be uint32")
    return {"indices": list(indices), "values": [float(v) for v in values]}


def _dense_score(metric: str, query: list[float], stored: list[float]) -> float:
    if metric == "euclidean":
        return sum((a - b) ** 2 for a, b in zip(query, stored, strict=True))
    dot = sum(a * b for a, b in zip(query, stored, strict=True))
    if metric == "cosine":
        norms = math.sqrt(sum(a * a for a in query)) * math.sqrt(sum(b * b for b in stored))
        return dot / norms if norms else 0.0
    return dot


def _include(raw: Any, *, default_all: bool) -> set[str] | None:
    """None means every field; search returns none by default, fetch all."""
    if raw is None or raw == []:
        return None if default_all else set()
    if not isinstance(raw, list) or not all(isinstance(f, str) for f in raw):
        raise StandInError(400, "include_fields must be an array of field names")
    return None if "*" in raw else set(raw)


def _project(document: dict[str, Any], include: set[str] | None) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "_id" and (include is None or k in include)}


def _compile_filter(expr: Any, data_fields: set[str]) -> Callable[[dict[str, Any]], bool]:
    """Pinecone's filter language: ``$eq $ne $in $nin`` under ``$and``/``$or``, on metadata only
    (schema-declared data fields reject comparison operators)."""
    if expr is None:
        return lambda _m: True
    if not isinstance(expr, dict) or not expr:
        raise StandInError(400, f"invalid filter {expr!r}")
    parts: list[Callable[[dict[str, Any]], bool]] = []
    for key, value in expr.items():
        if key in ("$and", "$or"):
            if not isinstance(value, list) or not value:
                raise StandInError(400, f"{key} needs a non-empty array")
            subs = [_compile_filter(v, data_fields) for v in value]
            parts.append(_combine(subs, every=key == "$and"))
        elif key.startswith("$"):
            raise StandInError(400, f"unsupported filter operator {key}")
        elif key in data_fields:
            raise StandInError(400, f"field {key!r} is a schema data field, not metadata")
        else:
            parts.append(_field_matcher(key, value))
    return lambda m: all(p(m) for p in parts)


def _field_matcher(key: str, condition: Any) -> Callable[[dict[str, Any]], bool]:
    if not isinstance(condition, dict):
        condition = {"$eq": condition}  # Pinecone's shorthand
    checks: list[Callable[[Any], bool]] = []
    for op, operand in condition.items():
        if op in ("$in", "$nin"):
            if not isinstance(operand, list) or not operand:
                raise StandInError(400, f"{op} needs a non-empty array")
            member = _member(operand)
            checks.append(member if op == "$in" else _negate(member))
        elif op in ("$eq", "$ne"):
            equal = _member([operand])
            checks.append(equal if op == "$eq" else _negate(equal))
        else:
            raise StandInError(400, f"unsupported filter operator {op}")
    return lambda m: key in m and all(check(m[key]) for check in checks)


def _combine(
    subs: list[Callable[[dict[str, Any]], bool]], *, every: bool
) -> Callable[[dict[str, Any]], bool]:
    def test(metadata: dict[str, Any]) -> bool:
        results = (sub(metadata) for sub in subs)
        return all(results) if every else any(results)

    return test


def _negate(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: not check(value)


def _member(options: list[Any]) -> Callable[[Any], bool]:
    def test(value: Any) -> bool:
        # A list-of-strings field matches when any element matches.
        values = value if isinstance(value, list) else [value]
        return any(_same(v, o) for v in values for o in options)

    return test


def _same(a: Any, b: Any) -> bool:
    # Pinecone stores numbers as floats and does not equate booleans with 0/1.
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return bool(a == b)


class _Handler(BaseHTTPRequestHandler):
    owner: PineconeStandIn
    index: str | None
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def _handle(self) -> None:
        arrived = time.monotonic()
        split = urlsplit(self.path)
        path, query = split.path, parse_qs(split.query)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        body: Any = None
        status, payload, extra = 500, None, {}
        try:
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError as exc:
                    raise StandInError(400, f"malformed JSON: {exc}") from exc
            if headers.get("api-key") != self.owner.api_key:
                raise StandInError(401, "Unauthorized")
            if headers.get("x-pinecone-api-version") != API_VERSION:
                raise StandInError(400, f"X-Pinecone-Api-Version must be {API_VERSION}")
            fault = self.owner._fault_for(self.command, path, body)
            if fault is not None:
                if fault.retry_after is not None:
                    extra["Retry-After"] = str(fault.retry_after)
                raise StandInError(fault.status, fault.message or f"injected {fault.status}")
            if len(raw) > self.owner.max_request_bytes:
                raise StandInError(
                    413 if _DOCS_RE.fullmatch(path) else 400,
                    f"Request size {len(raw)} bytes exceeds the maximum supported size of "
                    f"{self.owner.max_request_bytes} bytes",
                )
            if self.index is None:
                status, payload = self.owner.control(self.command, path, body)
            else:
                status, payload = self.owner.data(self.index, self.command, path, query, body)
        except StandInError as exc:
            status, payload = exc.status, self._error_body(path, exc)
        self.owner._log(
            LoggedRequest(
                method=self.command,
                path=path,
                query=query,
                headers=headers,
                body_bytes=len(raw),
                body=body,
                status=status,
                at=arrived,
                index=self.index,
            )
        )
        if isinstance(payload, str):
            data, content_type = payload.encode(), "text/plain"
        else:
            data = b"" if payload is None else json.dumps(payload).encode()
            content_type = "application/json"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _error_body(self, path: str, exc: StandInError) -> Any:
        if exc.status in (401, 429):
            return exc.message  # the gateway answers these in plain text
        if self.index is None or _DOCS_RE.fullmatch(path):
            code = _ERROR_CODES.get(exc.status, "UNKNOWN")
            return {"error": {"code": code, "message": exc.message}, "status": exc.status}
        return {"code": _RPC_CODES.get(exc.status, 2), "message": exc.message, "details": []}


def documents_path(namespace: str, operation: str) -> str:
    """The request path of a documents operation, as the log records it."""
    return f"/namespaces/{namespace or DEFAULT_NAMESPACE}/documents/{operation}"


def iter_bodies(requests: list[LoggedRequest]) -> Iterator[dict[str, Any]]:
    for request in requests:
        if isinstance(request.body, dict):
            yield request.body
