"""Read-only summaries of a project's documents and chunks (metadata and checks)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, or_, select

from lexi_pipelines.documents.extraction import EXTRACTED, FAILED
from lexi_pipelines.documents.registry import CHUNKS, DOCUMENTS


def status_counts(engine: Engine, project: str) -> dict[str, int]:
    query = (
        select(DOCUMENTS.c.status, func.count())
        .where(DOCUMENTS.c.project == project)
        .group_by(DOCUMENTS.c.status)
    )
    with engine.connect() as conn:
        return {status: count for status, count in conn.execute(query)}


def failed_documents(engine: Engine, project: str, limit: int = 50) -> list[dict[str, Any]]:
    query = (
        select(DOCUMENTS.c.id, DOCUMENTS.c.relative_path, DOCUMENTS.c.error)
        .where(DOCUMENTS.c.project == project, DOCUMENTS.c.status == FAILED)
        .order_by(DOCUMENTS.c.relative_path)
        .limit(limit)
    )
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


@dataclass(frozen=True)
class ChunkStats:
    chunks: int
    max_tokens: int
    extracted_documents: int
    documents_without_chunks: list[str]
    stale_documents: int


def chunk_stats(engine: Engine, project: str, chunking_key: str) -> ChunkStats:
    extracted = (DOCUMENTS.c.project == project) & (DOCUMENTS.c.status == EXTRACTED)
    has_chunks = (
        select(CHUNKS.c.id)
        .where(CHUNKS.c.project == project, CHUNKS.c.document_id == DOCUMENTS.c.id)
        .exists()
    )
    with engine.connect() as conn:
        chunks, max_tokens = conn.execute(
            select(func.count(), func.coalesce(func.max(CHUNKS.c.token_count), 0)).where(
                CHUNKS.c.project == project
            )
        ).one()
        total = conn.scalar(select(func.count()).where(extracted)) or 0
        without = list(
            conn.scalars(
                select(DOCUMENTS.c.id)
                .where(extracted, DOCUMENTS.c.chunking_key.is_not(None), ~has_chunks)
                .order_by(DOCUMENTS.c.id)
                .limit(50)
            )
        )
        stale = conn.scalar(
            select(func.count()).where(
                extracted,
                or_(DOCUMENTS.c.chunking_key.is_(None), DOCUMENTS.c.chunking_key != chunking_key),
            )
        )
    return ChunkStats(int(chunks), int(max_tokens), int(total), without, int(stale or 0))
