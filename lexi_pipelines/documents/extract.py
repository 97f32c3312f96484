"""Extracting the text of a project's PENDING documents, on all cores when there is work enough.

Workers read a file, extract and clean its text and write ``text/{doc_id}.txt`` atomically;
only the outcome (status, counts, hash, reason) travels back. Outcomes are committed in
batches, so an interrupted run keeps what it finished and the next run resumes.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, bindparam, select, update

from lexi_pipelines.common.files import write_text_atomically
from lexi_pipelines.common.processes import forkserver_pool, main_module_hidden
from lexi_pipelines.documents.extraction import (
    EXTRACTED,
    FAILED,
    ExtractionOutcome,
    extract_file,
)
from lexi_pipelines.documents.inventory import resolve_inside
from lexi_pipelines.documents.progress import ProgressLog
from lexi_pipelines.documents.projects import ProjectPaths
from lexi_pipelines.documents.registry import DOCUMENTS, PENDING, each_document

# Below this much work a process pool costs more to start than it saves.
POOL_MIN_DOCUMENTS = 64
POOL_MIN_BYTES = 16 << 20
_COMMIT_EVERY = 500


@dataclass(frozen=True)
class ExtractTask:
    doc_id: str
    relative_path: str
    media_type: str
    size_bytes: int


@dataclass(frozen=True)
class ExtractDone:
    doc_id: str
    relative_path: str
    status: str
    page_count: int | None
    char_count: int | None
    text_sha256: str | None
    error: str | None


@dataclass
class ExtractResult:
    project: str
    attempted: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    pages: int = 0
    pdf_seconds: float = 0.0
    failures: list[ExtractDone] = field(default_factory=list)
    workers: int = 1
    duration_s: float = 0.0


@dataclass(frozen=True)
class _WorkerSetup:
    documents_dir: Path
    text_dir: Path
    max_bytes: int


def pending_tasks(engine: Engine, project: str) -> list[ExtractTask]:
    query = (
        select(
            DOCUMENTS.c.id,
            DOCUMENTS.c.relative_path,
            DOCUMENTS.c.media_type,
            DOCUMENTS.c.size_bytes,
        )
        .where(DOCUMENTS.c.project == project, DOCUMENTS.c.status == PENDING)
        .order_by(DOCUMENTS.c.id)
    )
    with engine.connect() as conn:
        return [ExtractTask(*row) for row in conn.execute(query)]


def extract_pending(
    engine: Engine,
    paths: ProjectPaths,
    *,
    max_bytes: int,
    workers: int | None = None,
    log: Callable[[str], None] = lambda _line: None,
    progress_interval_s: float = 5.0,
) -> ExtractResult:
    started = time.perf_counter()
    tasks = pending_tasks(engine, paths.project)
    result = ExtractResult(project=paths.project, attempted=len(tasks))
    if not tasks:
        return result
    paths.text.mkdir(parents=True, exist_ok=True)
    setup = _WorkerSetup(paths.documents, paths.text, max_bytes)
    progress = ProgressLog("extracted", len(tasks), log, progress_interval_s)
    n_workers = _worker_count(tasks, workers)
    result.workers = n_workers
    now = datetime.now(UTC)
    batch: list[ExtractDone] = []
    for done, seconds in _run(setup, tasks, n_workers):
        result.by_status[done.status] = result.by_status.get(done.status, 0) + 1
        if done.page_count:
            result.pages += done.page_count
            result.pdf_seconds += seconds
        if done.status == FAILED:
            result.failures.append(done)
        batch.append(done)
        progress.advance()
        if len(batch) >= _COMMIT_EVERY:
            _store(engine, paths.project, batch, now)
            batch = []
    _store(engine, paths.project, batch, now)
    result.duration_s = time.perf_counter() - started
    return result


def _worker_count(tasks: list[ExtractTask], requested: int | None) -> int:
    cpus = os.cpu_count() or 1
    wanted = requested if requested else cpus
    total_bytes = sum(t.size_bytes for t in tasks)
    if wanted <= 1 or (len(tasks) < POOL_MIN_DOCUMENTS and total_bytes < POOL_MIN_BYTES):
        return 1
    return min(wanted, len(tasks))


def _run(
    setup: _WorkerSetup, tasks: list[ExtractTask], n_workers: int
) -> Iterator[tuple[ExtractDone, float]]:
    if n_workers == 1:
        for task in tasks:
            yield _extract_one(setup, task)
        return
    chunksize = max(1, min(64, len(tasks) // (n_workers * 8)))
    with forkserver_pool(n_workers, ["lexi_pipelines.documents.extraction"]) as pool:
        with main_module_hidden():
            results = pool.map(_extract_one, [setup] * len(tasks), tasks, chunksize=chunksize)
        yield from results


def _extract_one(setup: _WorkerSetup, task: ExtractTask) -> tuple[ExtractDone, float]:
    started = time.perf_counter()
    try:
        path = resolve_inside(setup.documents_dir, task.relative_path)
    except ValueError:
        done = ExtractDone(
            task.doc_id, task.relative_path, FAILED, None, None, None,
            "path leaves the project folder (symlink or '..')",
        )  # fmt: skip
        return done, 0.0
    try:
        outcome = extract_file(path, task.media_type, setup.max_bytes)
    except Exception as exc:
        # A parser crash on one odd file (an exception type the extractors do not expect) marks
        # that file FAILED; it must not stop the project's extraction on every run.
        reason = f"extraction crashed: {type(exc).__name__}: {exc}"
        outcome = ExtractionOutcome(FAILED, error=reason)
    if outcome.status == EXTRACTED:
        write_text_atomically(setup.text_dir / f"{task.doc_id}.txt", outcome.text)
    done = ExtractDone(
        doc_id=task.doc_id,
        relative_path=task.relative_path,
        status=outcome.status,
        page_count=outcome.page_count,
        char_count=len(outcome.text) if outcome.status == EXTRACTED else None,
        text_sha256=outcome.text_sha256,
        error=outcome.error,
    )
    return done, time.perf_counter() - started


def _store(engine: Engine, project: str, batch: list[ExtractDone], now: datetime) -> None:
    if not batch:
        return
    stmt = (
        update(DOCUMENTS)
        .where(each_document(project))
        .values(
            status=bindparam("k_status"),
            error=bindparam("k_error"),
            page_count=bindparam("k_pages"),
            char_count=bindparam("k_chars"),
            text_sha256=bindparam("k_text_sha"),
            chunking_key=None,
            extracted_at=now,
            updated_at=now,
        )
    )
    params = [
        {
            "k_id": d.doc_id,
            "k_status": d.status,
            "k_error": d.error,
            "k_pages": d.page_count,
            "k_chars": d.char_count,
            "k_text_sha": d.text_sha256,
        }
        for d in batch
    ]
    with engine.begin() as conn:
        conn.execute(stmt, params)
