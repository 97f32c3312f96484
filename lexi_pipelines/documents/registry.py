"""Keeping the ``documents`` table in step with a project's documents folder.

Unchanged files (same size and mtime as recorded) are not re-read; changed ones are hashed and
only a different sha256 counts as a change. New and changed files become PENDING; rows, chunks
and text of deleted files are removed. One transaction: a failure leaves the table as it was.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, and_, bindparam, delete, select, update

from lexi_pipelines.common.files import file_sha256
from lexi_pipelines.db.bulk import bulk_insert
from lexi_pipelines.db.models import Chunk, Document, table_of
from lexi_pipelines.documents.errors import DocumentsInputError
from lexi_pipelines.documents.ids import assign_ids
from lexi_pipelines.documents.inventory import (
    FileEntry,
    Inventory,
    SkippedFile,
    scan_documents,
)
from lexi_pipelines.documents.projects import ProjectPaths

PENDING = "PENDING"

DOCUMENTS = table_of(Document)
CHUNKS = table_of(Chunk)


def each_document(project: str) -> ColumnElement[bool]:
    """WHERE clause for executemany over a project's documents, keyed by ``k_id``."""
    return and_(DOCUMENTS.c.project == project, DOCUMENTS.c.id == bindparam("k_id"))


@dataclass
class SyncResult:
    project: str
    files: int = 0
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    touched: int = 0  # stat changed, content did not
    unchanged: int = 0
    deleted: list[str] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    duration_s: float = 0.0

    @property
    def has_changes(self) -> bool:
        return bool(self.new or self.changed or self.deleted)


@dataclass(frozen=True)
class _Stored:
    id: str
    sha256: str
    size_bytes: int
    mtime_ns: int
    media_type: str


def stored_files(engine: Engine, project: str) -> dict[str, _Stored]:
    query = select(
        DOCUMENTS.c.relative_path,
        DOCUMENTS.c.id,
        DOCUMENTS.c.sha256,
        DOCUMENTS.c.size_bytes,
        DOCUMENTS.c.mtime_ns,
        DOCUMENTS.c.media_type,
    ).where(DOCUMENTS.c.project == project)
    with engine.connect() as conn:
        return {row[0]: _Stored(*row[1:]) for row in conn.execute(query)}


def sync_project(engine: Engine, paths: ProjectPaths, *, rehash: bool = False) -> SyncResult:
    started = time.perf_counter()
    if not paths.root.is_dir():
        # A missing project folder (an unmounted volume, a typo) must not read as "every file
        # was deleted".
        raise DocumentsInputError(
            f"project folder {paths.root} does not exist", source=str(paths.root), field="project"
        )
    result = SyncResult(project=paths.project)
    inventory = scan_documents(paths.documents)
    result.files = len(inventory.files)
    result.skipped = inventory.skipped
    stored = stored_files(engine, paths.project)
    now = datetime.now(UTC)

    inserts: list[dict[str, Any]] = []
    resets: list[dict[str, Any]] = []
    touches: list[dict[str, Any]] = []
    new_entries: dict[str, tuple[FileEntry, str]] = {}
    for entry in inventory.files:
        known = stored.get(entry.relative_path)
        if (
            known is not None
            and not rehash
            and known.size_bytes == entry.size
            and known.mtime_ns == entry.mtime_ns
            and known.media_type == entry.media_type
        ):
            result.unchanged += 1
            continue
        try:
            digest = file_sha256(paths.documents / entry.relative_path)
        except OSError as exc:
            result.skipped.append(
                SkippedFile(entry.relative_path, f"cannot read: {exc.strerror or exc}")
            )
            continue
        if known is None:
            new_entries[entry.relative_path] = (entry, digest)
        elif known.sha256 == digest and known.media_type == entry.media_type:
            result.touched += 1
            touches.append({"k_id": known.id, "size_bytes": entry.size, "mtime_ns": entry.mtime_ns})
        else:
            result.changed.append(known.id)
            resets.append(
                {
                    "k_id": known.id,
                    "sha256": digest,
                    "size_bytes": entry.size,
                    "mtime_ns": entry.mtime_ns,
                    "media_type": entry.media_type,
                }
            )

    # A file that is there but could not be read is kept: it may be readable next time.
    still_there = {entry.relative_path for entry in inventory.files}
    still_there.update(skipped.relative_path for skipped in inventory.skipped)
    gone = {path: doc for path, doc in stored.items() if path not in still_there}
    result.deleted = sorted(doc.id for doc in gone.values())

    taken = {doc.id for path, doc in stored.items() if path not in gone}
    ids = assign_ids(new_entries, taken)
    for path, (entry, digest) in sorted(new_entries.items()):
        result.new.append(ids[path])
        inserts.append(
            {
                "project": paths.project,
                "id": ids[path],
                "relative_path": path,
                "sha256": digest,
                "size_bytes": entry.size,
                "mtime_ns": entry.mtime_ns,
                "media_type": entry.media_type,
                "status": PENDING,
                "error": None,
                "page_count": None,
                "char_count": None,
                "text_sha256": None,
                "chunking_key": None,
                "created_at": now,
                "updated_at": now,
                "extracted_at": None,
            }
        )

    this_doc = each_document(paths.project)
    with engine.begin() as conn:
        stale = result.deleted + result.changed
        if stale:
            delete_chunks(conn, paths.project, stale)
        if result.deleted:
            conn.execute(
                delete(DOCUMENTS).where(this_doc), [{"k_id": doc_id} for doc_id in result.deleted]
            )
        if resets:
            conn.execute(
                update(DOCUMENTS)
                .where(this_doc)
                .values(
                    status=PENDING,
                    error=None,
                    page_count=None,
                    char_count=None,
                    text_sha256=None,
                    chunking_key=None,
                    extracted_at=None,
                    updated_at=now,
                ),
                resets,
            )
        if touches:
            conn.execute(update(DOCUMENTS).where(this_doc), touches)
        if inserts:
            bulk_insert(conn, DOCUMENTS, inserts)
    # Text files go only after the commit: a rolled-back sync must still find them.
    for doc_id in result.deleted + result.changed:
        paths.text_file(doc_id).unlink(missing_ok=True)
    result.duration_s = time.perf_counter() - started
    return result


def delete_chunks(conn: Connection, project: str, document_ids: list[str]) -> int:
    deleted = 0
    for start in range(0, len(document_ids), 500):
        batch = document_ids[start : start + 500]
        deleted += (
            conn.execute(
                delete(CHUNKS).where(CHUNKS.c.project == project, CHUNKS.c.document_id.in_(batch))
            ).rowcount
            or 0
        )
    return deleted


def project_files_changed(engine: Engine, paths: ProjectPaths, inventory: Inventory) -> bool:
    """Whether a sync would change anything (hashing only files whose stat changed)."""
    stored = stored_files(engine, paths.project)
    if {e.relative_path for e in inventory.files} != set(stored):
        return True
    for entry in inventory.files:
        known = stored[entry.relative_path]
        if known.size_bytes == entry.size and known.mtime_ns == entry.mtime_ns:
            continue
        try:
            if file_sha256(paths.documents / entry.relative_path) != known.sha256:
                return True
        except OSError:
            continue
    return False
