"""Keeping one namespace of a vector index in step with its source items, incrementally.

``vector_items`` records, per item, the hash of the text that was embedded (with the model's
name) and of its metadata. A run embeds only new items and items whose text changed, rewrites
the metadata of items whose text did not change (reusing their stored vectors), and deletes
items that left the source. Index writes happen first and the bookkeeping after, batch by
batch: an interrupted run redoes at most one batch, and upserts are idempotent.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine, and_, bindparam, delete, select

from lexi_pipelines.db.bulk import bulk_upsert
from lexi_pipelines.db.models import VectorItem, table_of
from lexi_pipelines.documents.progress import ProgressLog
from lexi_pipelines.vectors.embedding import TextEmbedder
from lexi_pipelines.vectors.index import VectorIndex, VectorRecord
from lexi_pipelines.vectors.sparse import BM25Encoder, BM25Stats
from lexi_pipelines.vectors.texts import IndexItem

VECTOR_ITEMS = table_of(VectorItem)
EMBED_BATCH = 512
_ID_BATCH = 1000


@dataclass
class IndexSyncResult:
    index: str
    namespace: str
    items: int = 0
    embedded: int = 0
    metadata_updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    encode_seconds: float = 0.0
    duration_s: float = 0.0

    @property
    def embedded_per_s(self) -> float:
        return self.embedded / self.duration_s if self.duration_s else 0.0


def text_key(model: str, text: str) -> str:
    return hashlib.sha256(f"{model}\0{text}".encode()).hexdigest()


def stored_hashes(engine: Engine, index: str, namespace: str) -> dict[str, tuple[str, str]]:
    query = select(
        VECTOR_ITEMS.c.item_id, VECTOR_ITEMS.c.text_hash, VECTOR_ITEMS.c.metadata_hash
    ).where(VECTOR_ITEMS.c.index_name == index, VECTOR_ITEMS.c.namespace == namespace)
    with engine.connect() as conn:
        return {item_id: (text_hash, meta) for item_id, text_hash, meta in conn.execute(query)}


def sync_index(
    engine: Engine,
    index: VectorIndex,
    embedder: TextEmbedder,
    namespace: str,
    items: Sequence[IndexItem],
    *,
    bm25_path: Path | None = None,
    batch_size: int = EMBED_BATCH,
    log: Callable[[str], None] = lambda _line: None,
    progress_interval_s: float = 5.0,
) -> IndexSyncResult:
    started = time.perf_counter()
    name = index.spec.name
    result = IndexSyncResult(index=name, namespace=namespace, items=len(items))
    stored = stored_hashes(engine, name, namespace)
    to_embed: list[tuple[IndexItem, str]] = []
    to_relabel: list[tuple[IndexItem, str]] = []
    for item in items:
        key = text_key(embedder.name, item.text)
        known = stored.get(item.id)
        if known is None or known[0] != key:
            to_embed.append((item, key))
        elif known[1] != item.metadata_hash:
            to_relabel.append((item, key))
        else:
            result.unchanged += 1
    current = {item.id for item in items}
    gone = sorted(item_id for item_id in stored if item_id not in current)

    sparse = _sparse_encoder(index, items, bm25_path, changed=bool(to_embed or to_relabel or gone))
    progress = ProgressLog("embedded", len(to_embed), log, progress_interval_s)
    # One writer thread: the index upsert and bookkeeping of batch n overlap the encoding of
    # batch n + 1 (torch releases the GIL while it computes).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="vector-writer") as writer:
        pending: list[Future[None]] = []
        for start in range(0, len(to_embed), batch_size):
            batch = to_embed[start : start + batch_size]
            encode_started = time.perf_counter()
            vectors = embedder.encode([item.text for item, _key in batch])
            result.encode_seconds += time.perf_counter() - encode_started
            pending.append(writer.submit(_write, engine, index, namespace, batch, vectors, sparse))
            if len(pending) > 1:
                pending.pop(0).result()
            progress.advance(len(batch))
        for future in pending:
            future.result()
    result.embedded = len(to_embed)

    for start in range(0, len(to_relabel), _ID_BATCH):
        batch = to_relabel[start : start + _ID_BATCH]
        vectors_by_id = index.fetch_vectors(namespace, [item.id for item, _key in batch])
        present = [(item, key) for item, key in batch if item.id in vectors_by_id]
        # An item the index lost (deleted by hand) is embedded again.
        missing = [(item, key) for item, key in batch if item.id not in vectors_by_id]
        if present:
            vectors = np.stack([vectors_by_id[item.id] for item, _key in present])
            _write(engine, index, namespace, present, vectors, sparse)
        if missing:
            vectors = embedder.encode([item.text for item, _key in missing])
            _write(engine, index, namespace, missing, vectors, sparse)
            result.embedded += len(missing)
        result.metadata_updated += len(present)

    for start in range(0, len(gone), _ID_BATCH):
        batch_ids = gone[start : start + _ID_BATCH]
        index.delete(namespace, batch_ids)
        with engine.begin() as conn:
            conn.execute(
                delete(VECTOR_ITEMS).where(
                    and_(
                        VECTOR_ITEMS.c.index_name == name,
                        VECTOR_ITEMS.c.namespace == namespace,
                        VECTOR_ITEMS.c.item_id == bindparam("k_id"),
                    )
                ),
                [{"k_id": item_id} for item_id in batch_ids],
            )
    result.deleted = len(gone)
    result.duration_s = time.perf_counter() - started
    return result


def _sparse_encoder(
    index: VectorIndex, items: Sequence[IndexItem], path: Path | None, *, changed: bool
) -> BM25Encoder | None:
    if not index.spec.hybrid:
        return None
    encoder = BM25Encoder(BM25Stats.load(path) if path else None)
    if changed or not encoder.stats.documents:
        # Document frequencies of the namespace as it will be after this run; queries read
        # them from the saved file.
        encoder.fit(item.text for item in items)
        if path:
            encoder.stats.save(path)
    return encoder


def _write(
    engine: Engine,
    index: VectorIndex,
    namespace: str,
    batch: Sequence[tuple[IndexItem, str]],
    vectors: npt.NDArray[np.float32],
    sparse: BM25Encoder | None,
) -> None:
    texts = [item.text for item, _key in batch]
    sparse_vectors = sparse.encode_documents(texts) if sparse else [None] * len(batch)
    records = [
        VectorRecord(
            id=item.id,
            vector=vector,
            metadata=item.metadata,
            text=item.text if index.spec.hybrid else None,
            sparse=sparse_vector,
        )
        for (item, _key), vector, sparse_vector in zip(batch, vectors, sparse_vectors, strict=True)
    ]
    index.upsert(namespace, records)
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = [
        {
            "index_name": index.spec.name,
            "namespace": namespace,
            "item_id": item.id,
            "text_hash": key,
            "metadata_hash": item.metadata_hash,
            "updated_at": now,
        }
        for item, key in batch
    ]
    with engine.begin() as conn:
        bulk_upsert(conn, VECTOR_ITEMS, rows, preserve=())
