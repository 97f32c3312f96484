"""Chunking the extracted text of a project's documents into the ``chunks`` table.

A document is (re-)chunked when its text is new or the chunking key (tokenizer and
parameters) changed; its old chunks are replaced in the same transaction.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, or_, select, update

from lexi_pipelines.db.bulk import bulk_insert
from lexi_pipelines.documents.chunking import Chunker
from lexi_pipelines.documents.extraction import EXTRACTED
from lexi_pipelines.documents.progress import ProgressLog
from lexi_pipelines.documents.projects import ProjectPaths
from lexi_pipelines.documents.registry import (
    CHUNKS,
    DOCUMENTS,
    PENDING,
    delete_chunks,
    each_document,
)

_BATCH_DOCUMENTS = 256


@dataclass
class ChunkResult:
    project: str
    documents: int = 0
    chunks_written: int = 0
    chunks_replaced: int = 0
    tokens: int = 0
    max_tokens: int = 0
    missing_text: list[str] = field(default_factory=list)
    duration_s: float = 0.0


def chunk_id(project: str, doc_id: str, ordinal: int, text: str) -> str:
    text_hash = hashlib.sha256(text.encode()).hexdigest()
    return hashlib.sha256(f"{project}\0{doc_id}\0{ordinal}\0{text_hash}".encode()).hexdigest()


def documents_to_chunk(engine: Engine, project: str, chunking_key: str) -> list[str]:
    query = (
        select(DOCUMENTS.c.id)
        .where(
            DOCUMENTS.c.project == project,
            DOCUMENTS.c.status == EXTRACTED,
            or_(DOCUMENTS.c.chunking_key.is_(None), DOCUMENTS.c.chunking_key != chunking_key),
        )
        .order_by(DOCUMENTS.c.id)
    )
    with engine.connect() as conn:
        return list(conn.scalars(query))


def chunk_project(
    engine: Engine,
    paths: ProjectPaths,
    chunker: Chunker,
    chunking_key: str,
    *,
    log: Callable[[str], None] = lambda _line: None,
    progress_interval_s: float = 5.0,
) -> ChunkResult:
    started = time.perf_counter()
    doc_ids = documents_to_chunk(engine, paths.project, chunking_key)
    result = ChunkResult(project=paths.project, documents=len(doc_ids))
    progress = ProgressLog("chunked", len(doc_ids), log, progress_interval_s)
    for start in range(0, len(doc_ids), _BATCH_DOCUMENTS):
        batch = doc_ids[start : start + _BATCH_DOCUMENTS]
        texts: dict[str, str] = {}
        for doc_id in batch:
            try:
                texts[doc_id] = paths.text_file(doc_id).read_text(encoding="utf-8")
            except FileNotFoundError:
                result.missing_text.append(doc_id)
        chunked = chunker.chunk_many(list(texts.values()))
        rows: list[dict[str, Any]] = []
        for doc_id, chunks in zip(texts, chunked, strict=True):
            for c in chunks:
                rows.append(
                    {
                        "id": chunk_id(paths.project, doc_id, c.ordinal, c.text),
                        "project": paths.project,
                        "document_id": doc_id,
                        "ordinal": c.ordinal,
                        "text": c.text,
                        "char_start": c.start,
                        "char_end": c.end,
                        "token_count": c.token_count,
                    }
                )
                result.tokens += c.token_count
                result.max_tokens = max(result.max_tokens, c.token_count)
        this_doc = each_document(paths.project)
        with engine.begin() as conn:
            result.chunks_replaced += delete_chunks(conn, paths.project, list(texts))
            bulk_insert(conn, CHUNKS, rows)
            if texts:
                conn.execute(
                    update(DOCUMENTS).where(this_doc).values(chunking_key=chunking_key),
                    [{"k_id": doc_id} for doc_id in texts],
                )
            missing = [d for d in batch if d not in texts]
            if missing:
                # The text file vanished (deleted by hand): extract the document again.
                conn.execute(
                    update(DOCUMENTS)
                    .where(this_doc)
                    .values(status=PENDING, chunking_key=None, updated_at=datetime.now(UTC)),
                    [{"k_id": doc_id} for doc_id in missing],
                )
        result.chunks_written += len(rows)
        progress.advance(len(batch))
    result.duration_s = time.perf_counter() - started
    return result
