"""The pure documents pipeline on SQLite: sync -> extract -> chunk, and what each rerun does."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
import pytest
from pypdf import PdfWriter
from sqlalchemy import Engine, select

from lexi_pipelines.db.engine import ensure_schema, make_engine
from lexi_pipelines.documents import extract as extract_module
from lexi_pipelines.documents.chunk import chunk_id, chunk_project
from lexi_pipelines.documents.chunking import Chunker
from lexi_pipelines.documents.errors import DocumentsInputError
from lexi_pipelines.documents.extract import extract_pending
from lexi_pipelines.documents.extraction import ExtractionOutcome
from lexi_pipelines.documents.inventory import scan_documents
from lexi_pipelines.documents.projects import ProjectPaths, project_paths
from lexi_pipelines.documents.queries import chunk_stats, failed_documents, status_counts
from lexi_pipelines.documents.registry import (
    CHUNKS,
    DOCUMENTS,
    project_files_changed,
    sync_project,
)
from lexi_pipelines.documents.tokenizer import ModelTokenizer, load_model_tokenizer
from lexi_pipelines_tests.documents.test_extraction import text_pdf

PROJECT = "demo-legal"
MAX_BYTES = 10 << 20
PARAGRAPH = (
    "The court held that the agreement was void because it had been signed under duress. "
    "The plaintiff argued that section twelve of the statute applied to every contract. "
)


@pytest.fixture(scope="module")
def model() -> ModelTokenizer:
    return load_model_tokenizer()


@pytest.fixture
def chunker(model: ModelTokenizer) -> Chunker:
    return Chunker(model.tokenizer, 64, 16)


@pytest.fixture
def key(chunker: Chunker, model: ModelTokenizer) -> str:
    return chunker.key(model.fingerprint)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 't.db'}")
    ensure_schema(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def paths(tmp_path: Path) -> ProjectPaths:
    paths = project_paths(tmp_path / "storage", PROJECT)
    paths.documents.mkdir(parents=True)
    return paths


def write(path: Path, content: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def docx_file(*paragraphs: str) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def project(paths: ProjectPaths) -> ProjectPaths:
    """A project of every kind of file: good, scanned, broken, empty and unsupported."""
    docs = paths.documents
    write(docs / "brief.txt", PARAGRAPH * 12)
    write(docs / "notes.md", "# Notes\n\n" + PARAGRAPH * 3)
    write(docs / "page.html", f"<html><title>Page</title><body><p>{PARAGRAPH}</p></body></html>")
    write(docs / "letters" / "letter.docx", docx_file("Dear Sir,", PARAGRAPH * 2, "Yours"))
    write(docs / "opinion.pdf", text_pdf(["Opinion of the court", "The appeal is dismissed."]))
    write(docs / "scan.pdf", blank_pdf())
    write(docs / "broken.pdf", b"%PDF-1.4 garbage")
    write(docs / "empty.txt", b"")
    write(docs / "a" / "report.txt", "Report A. " + PARAGRAPH)
    write(docs / "b" / "report.txt", "Report B. " + PARAGRAPH)
    write(docs / "sheet.xlsx", b"PK")
    return paths


EXPECTED_STATUS = {
    "brief": "EXTRACTED",
    "notes": "EXTRACTED",
    "page": "EXTRACTED",
    "letter": "EXTRACTED",
    "opinion": "EXTRACTED",
    "scan": "NEEDS_OCR",
    "broken": "FAILED",
    "empty": "FAILED",
    "report": "EXTRACTED",  # a/report.txt: first in sorted order keeps the stem
}
REPORT_B = "report-" + hashlib.sha1(b"b/report.txt").hexdigest()[:8]


def documents(engine: Engine, project: str = PROJECT) -> dict[str, dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(DOCUMENTS).where(DOCUMENTS.c.project == project))
        return {row.id: dict(row._mapping) for row in rows}


def chunks(engine: Engine, project: str = PROJECT) -> dict[str, list[dict[str, Any]]]:
    by_doc: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as conn:
        query = (
            select(CHUNKS)
            .where(CHUNKS.c.project == project)
            .order_by(CHUNKS.c.document_id, CHUNKS.c.ordinal)
        )
        for row in conn.execute(query):
            by_doc.setdefault(row.document_id, []).append(dict(row._mapping))
    return by_doc


def text_files(paths: ProjectPaths) -> list[str]:
    return sorted(p.name for p in paths.text.glob("*")) if paths.text.exists() else []


def run_all(engine: Engine, paths: ProjectPaths, chunker: Chunker, key: str) -> None:
    sync_project(engine, paths)
    extract_pending(engine, paths, max_bytes=MAX_BYTES, workers=1)
    chunk_project(engine, paths, chunker, key)


def touch(path: Path, seconds: int = 10) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + seconds * 1_000_000_000))


# -- first run -----------------------------------------------------------------------------------


def test_first_run(
    engine: Engine, project: ProjectPaths, chunker: Chunker, key: str, model: ModelTokenizer
) -> None:
    synced = sync_project(engine, project)
    assert synced.project == PROJECT
    assert synced.files == 10
    assert sorted(synced.new) == sorted([*EXPECTED_STATUS, REPORT_B])
    assert synced.changed == [] and synced.deleted == [] and synced.touched == 0
    assert [(s.relative_path, s.reason) for s in synced.skipped] == [
        ("sheet.xlsx", "unsupported file type")
    ]
    assert synced.has_changes
    rows = documents(engine)
    assert {row["status"] for row in rows.values()} == {"PENDING"}
    assert rows["letter"]["relative_path"] == "letters/letter.docx"
    assert rows[REPORT_B]["relative_path"] == "b/report.txt"
    brief = project.documents / "brief.txt"
    assert rows["brief"]["sha256"] == hashlib.sha256(brief.read_bytes()).hexdigest()
    assert rows["brief"]["size_bytes"] == brief.stat().st_size
    assert rows["brief"]["mtime_ns"] == brief.stat().st_mtime_ns
    assert rows["brief"]["media_type"] == "text/plain"

    lines: list[str] = []
    extracted = extract_pending(
        engine, project, max_bytes=MAX_BYTES, workers=1, log=lines.append, progress_interval_s=0
    )
    assert extracted.workers == 1
    assert extracted.attempted == 10
    assert extracted.by_status == {"EXTRACTED": 7, "NEEDS_OCR": 1, "FAILED": 2}
    assert extracted.pages == 3  # opinion.pdf 2 + scan.pdf 1
    assert sorted(f.doc_id for f in extracted.failures) == ["broken", "empty"]
    assert lines and all("extracted: " in line for line in lines)
    rows = documents(engine)
    assert {doc_id: rows[doc_id]["status"] for doc_id in EXPECTED_STATUS} == EXPECTED_STATUS
    assert rows[REPORT_B]["status"] == "EXTRACTED"
    assert "corrupt PDF" in rows["broken"]["error"]
    assert rows["empty"]["error"] == "empty file"
    assert rows["scan"]["page_count"] == 1 and rows["scan"]["error"] is None
    assert rows["opinion"]["page_count"] == 2
    assert all(row["extracted_at"] is not None for row in rows.values())

    extracted_ids = sorted(i for i, row in rows.items() if row["status"] == "EXTRACTED")
    assert text_files(project) == sorted(f"{doc_id}.txt" for doc_id in extracted_ids)
    for doc_id in extracted_ids:
        text = project.text_file(doc_id).read_text(encoding="utf-8")
        assert rows[doc_id]["char_count"] == len(text)
        assert rows[doc_id]["text_sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert (
        project.text_file("opinion").read_text()
        == "Opinion of the court\n\nThe appeal is dismissed."
    )
    assert project.text_file("page").read_text().startswith("Page\n\nThe court held")
    assert not [p for p in project.text.iterdir() if p.name.startswith(".")]  # no temp files

    chunked = chunk_project(engine, project, chunker, key)
    assert chunked.documents == len(extracted_ids)
    assert chunked.missing_text == [] and chunked.chunks_replaced == 0
    stored = chunks(engine)
    assert sorted(stored) == extracted_ids
    assert chunked.chunks_written == sum(len(c) for c in stored.values())
    assert len(stored["brief"]) > 3  # long enough for several chunks of 64 tokens
    assert chunked.max_tokens <= 64
    assert chunked.tokens == sum(c["token_count"] for doc in stored.values() for c in doc)
    for doc_id, doc_chunks in stored.items():
        text = project.text_file(doc_id).read_text(encoding="utf-8")
        assert [c["ordinal"] for c in doc_chunks] == list(range(len(doc_chunks)))
        for c in doc_chunks:
            assert c["text"] == text[c["char_start"] : c["char_end"]]
            assert c["token_count"] == len(
                model.tokenizer.encode(c["text"], add_special_tokens=False).ids
            )
            assert c["id"] == chunk_id(PROJECT, doc_id, c["ordinal"], c["text"])
    rows = documents(engine)
    assert {i for i, row in rows.items() if row["chunking_key"] == key} == set(extracted_ids)

    assert status_counts(engine, PROJECT) == {"EXTRACTED": 7, "NEEDS_OCR": 1, "FAILED": 2}
    assert [f["id"] for f in failed_documents(engine, PROJECT)] == ["broken", "empty"]
    stats = chunk_stats(engine, PROJECT, key)
    assert stats.chunks == chunked.chunks_written
    assert stats.max_tokens == chunked.max_tokens
    assert stats.extracted_documents == 7
    assert stats.documents_without_chunks == [] and stats.stale_documents == 0


def test_second_run_does_nothing(
    engine: Engine, project: ProjectPaths, chunker: Chunker, key: str
) -> None:
    run_all(engine, project, chunker, key)
    before_rows, before_chunks = documents(engine), chunks(engine)
    before_text = {p.name: p.stat().st_mtime_ns for p in project.text.iterdir()}

    synced = sync_project(engine, project)
    assert synced.new == [] and synced.changed == [] and synced.deleted == []
    assert synced.unchanged == 10 and synced.touched == 0
    assert not synced.has_changes
    assert not project_files_changed(engine, project, scan_documents(project.documents))
    assert extract_pending(engine, project, max_bytes=MAX_BYTES, workers=1).attempted == 0
    again = chunk_project(engine, project, chunker, key)
    assert again.documents == 0 and again.chunks_written == 0

    assert documents(engine) == before_rows
    assert chunks(engine) == before_chunks
    assert {p.name: p.stat().st_mtime_ns for p in project.text.iterdir()} == before_text


def test_failed_documents_are_not_retried_until_they_change(
    engine: Engine, project: ProjectPaths, chunker: Chunker, key: str
) -> None:
    run_all(engine, project, chunker, key)
    write(project.documents / "broken.pdf", text_pdf(["Now a readable PDF."]))
    synced = sync_project(engine, project)
    assert synced.changed == ["broken"]
    extracted = extract_pending(engine, project, max_bytes=MAX_BYTES, workers=1)
    assert extracted.attempted == 1 and extracted.by_status == {"EXTRACTED": 1}
    row = documents(engine)["broken"]
    assert row["status"] == "EXTRACTED" and row["error"] is None
    assert project.text_file("broken").read_text() == "Now a readable PDF."


# -- changes -------------------------------------------------------------------------------------


def test_modified_file_is_re_extracted_alone(
    engine: Engine, project: ProjectPaths, chunker: Chunker, key: str
) -> None:
    run_all(engine, project, chunker, key)
    before = documents(engine)
    other_chunks = {d: c for d, c in chunks(engine).items() if d != "notes"}
    write(project.documents / "notes.md", "# Notes\n\nCompletely new content. " + PARAGRAPH)

    synced = sync_project(engine, project)
    assert synced.changed == ["notes"]
    assert synced.new == [] and synced.deleted == [] and synced.unchanged == 9
    row = documents(engine)["notes"]
    assert row["status"] == "PENDING"
    assert row["chunking_key"] is None and row["text_sha256"] is None
    assert row["sha256"] != before["notes"]["sha256"]
    assert row["created_at"] == before["notes"]["created_at"]
    assert "notes" not in chunks(engine)  # stale chunks go with the sync
    assert not project.text_file("notes").exists()  # and so does the stale text

    extracted = extract_pending(engine, project, max_bytes=MAX_BYTES, workers=1)
    assert extracted.attempted == 1 and extracted.by_status == {"EXTRACTED": 1}
    assert project.text_file("notes").read_text().startswith("# Notes\n\nCompletely new content.")
    chunked = chunk_project(engine, project, chunker, key)
    assert chunked.documents == 1
    after = chunks(engine)
    assert after["notes"][0]["text"].startswith("# Notes")
    assert {d: c for d, c in after.items() if d != "notes"} == other_chunks
    rows = documents(engine)
    for doc_id, row in rows.items():
        if doc_id != "notes":
            assert row == before[doc_id]


def test_same_size_change_is_found_by_mtime(
    engine: Engine, project: ProjectPaths, chunker: Chunker, key: str
) -> None:
    run_all(engine, project, chunker, key)
    path = project.documents / "a" / "report.txt"
    original = path.read_text()
    write(path, original.replace("Report A.", "Report Z."))
    touch(path)
    synced = sync_project(engine, project)
    assert synced.changed == ["report"]


def test_rehash_finds_a_change_that_kept_size_and_mtime(
    engine: Engine, project: ProjectPaths, chunker: Chunker, key: str
) -> None:
    run_all(engine, project, chunker, key)
    path = project.documents / "a" / "report.txt"
    stat = path.stat()
    write(path, path.read_text().replace("Report A.", "Report Z."))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert sync_project(engine, project).changed == []  # stat says unchanged: not re-read
    synced = sync_project(engine, project, rehash=True)
    assert synced.changed == ["report"]
    assert synced.unchanged == 0 and synced.touched == 9


def test_touched_file_is_not_changed(
    engine: Engine, project: ProjectPaths, chunker: Chunker, key: str
) -> None:
    run_all(engine, project, chunker, key)
    before_rows, before_chunks = documents(engine), chunks(engine)
    path = project.documents / "brief.txt"
    touch(path)
    assert project_files_changed(engine, project, scan_documents(project.documents)) is False

    synced = sync_project(engine, project)
    assert synced.touched == 1
    assert synced.changed == [] and synced.new == [] and synced.deleted == []
    assert not synced.has_changes
    row = documents(engine)["brief"]
    assert row["mtime_ns"] == path.stat().st_mtime_ns != before_rows["brief"]["mtime_ns"]
    assert row["status"] == "EXTRACTED" and row["chunking_key"] == key
    assert chunks(engine) == before_chunks
    assert project.text_file("brief").is_file()
    # The new mtime is recorded: the next sync does not hash the file again.
    assert sync_project(engine, project).unchanged == 10
    assert extract_pending(engine, project, max_bytes=MAX_BYTES, workers=1).attempted == 0


def test_deleted_file_loses_row_chunks_and_text(
    engine: Engine, project: ProjectPaths, chunker: Chunker, key: str
) -> None:
    run_all(engine, project, chunker, key)
    assert "brief" in chunks(engine)
    (project.documents / "brief.txt").unlink()
    assert project_files_changed(engine, project, scan_documents(project.documents))

    synced = sync_project(engine, project)
    assert synced.deleted == ["brief"]
    assert synced.files == 9 and synced.has_changes
    assert "brief" not in documents(engine)
    assert "brief" not in chunks(engine)
    assert not project.text_file("brief").exists()
    assert len(documents(engine)) == 9


def test_renamed_file_keeps_no_stale_state(
    engine: Engine, project: ProjectPaths, chunker: Chunker, key: str
) -> None:
    run_all(engine, project, chunker, key)
    (project.documents / "notes.md").rename(project.documents / "letters" / "notes.md")
    synced = sync_project(engine, project)
    # The id is free again within the same sync: the moved file keeps its stem id.
    assert synced.deleted == ["notes"] and synced.new == ["notes"]
    row = documents(engine)["notes"]
    assert row["relative_path"] == "letters/notes.md" and row["status"] == "PENDING"
    assert "notes" not in chunks(engine)
    run_all(engine, project, chunker, key)
    assert documents(engine)["notes"]["status"] == "EXTRACTED"
    assert "notes" in chunks(engine)


def test_new_file_with_a_taken_stem_gets_a_new_id(
    engine: Engine, project: ProjectPaths, chunker: Chunker, key: str
) -> None:
    run_all(engine, project, chunker, key)
    write(project.documents / "0-first" / "brief.txt", "Another brief. " + PARAGRAPH)
    synced = sync_project(engine, project)
    assert len(synced.new) == 1 and synced.new[0].startswith("brief-")
    rows = documents(engine)
    assert rows["brief"]["relative_path"] == "brief.txt"  # the existing id is never reassigned
    assert rows[synced.new[0]]["relative_path"] == "0-first/brief.txt"


def test_missing_project_folder_is_an_input_error(
    engine: Engine, project: ProjectPaths, chunker: Chunker, key: str, tmp_path: Path
) -> None:
    run_all(engine, project, chunker, key)
    before_rows, before_chunks = documents(engine), chunks(engine)
    project.root.rename(tmp_path / "unmounted")
    with pytest.raises(DocumentsInputError, match="does not exist") as error:
        sync_project(engine, project)
    assert error.value.field == "project"
    assert documents(engine) == before_rows
    assert chunks(engine) == before_chunks


def test_empty_documents_folder_deletes_everything(
    engine: Engine, project: ProjectPaths, chunker: Chunker, key: str
) -> None:
    run_all(engine, project, chunker, key)
    for path in sorted(project.documents.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    synced = sync_project(engine, project)
    assert len(synced.deleted) == 10
    assert documents(engine) == {} and chunks(engine) == {}
    assert text_files(project) == []


def test_deleted_text_file_sends_the_document_back_to_extraction(
    engine: Engine, project: ProjectPaths, chunker: Chunker, model: ModelTokenizer
) -> None:
    sync_project(engine, project)
    extract_pending(engine, project, max_bytes=MAX_BYTES, workers=1)
    project.text_file("notes").unlink()
    key = chunker.key(model.fingerprint)
    chunked = chunk_project(engine, project, chunker, key)
    assert chunked.missing_text == ["notes"]
    assert chunked.documents == 7
    row = documents(engine)["notes"]
    assert row["status"] == "PENDING" and row["chunking_key"] is None
    assert "notes" not in chunks(engine)
    assert len(chunks(engine)) == 6

    extracted = extract_pending(engine, project, max_bytes=MAX_BYTES, workers=1)
    assert extracted.attempted == 1
    assert chunk_project(engine, project, chunker, key).documents == 1
    assert "notes" in chunks(engine)


def test_new_chunking_parameters_rechunk_everything(
    engine: Engine, project: ProjectPaths, chunker: Chunker, key: str, model: ModelTokenizer
) -> None:
    run_all(engine, project, chunker, key)
    before = chunks(engine)
    wider = Chunker(model.tokenizer, model.content_tokens, 32)
    wider_key = wider.key(model.fingerprint)
    assert wider_key != key
    stats = chunk_stats(engine, PROJECT, wider_key)
    assert stats.stale_documents == 7
    chunked = chunk_project(engine, project, wider, wider_key)
    assert chunked.documents == 7
    assert chunked.chunks_replaced == sum(len(c) for c in before.values())
    after = chunks(engine)
    assert sorted(after) == sorted(before)
    assert sum(len(c) for c in after.values()) < sum(len(c) for c in before.values())
    assert chunk_stats(engine, PROJECT, wider_key).stale_documents == 0


def test_projects_are_independent(
    engine: Engine, project: ProjectPaths, chunker: Chunker, key: str
) -> None:
    other = project_paths(project.storage, "other")
    write(other.documents / "brief.txt", "Other brief. " + PARAGRAPH)
    run_all(engine, project, chunker, key)
    run_all(engine, other, chunker, key)
    assert list(documents(engine, "other")) == ["brief"]
    assert len(documents(engine)) == 10
    (other.documents / "brief.txt").unlink()
    assert sync_project(engine, other).deleted == ["brief"]
    assert "brief" in documents(engine) and "brief" in chunks(engine)
    assert project.text_file("brief").is_file()


def test_too_large_files_fail_without_stopping_the_rest(
    engine: Engine, project: ProjectPaths
) -> None:
    sync_project(engine, project)
    extracted = extract_pending(engine, project, max_bytes=500, workers=1)
    assert extracted.attempted == 10
    rows = documents(engine)
    too_large = {doc_id for doc_id, row in rows.items() if row["size_bytes"] > 500}
    assert {"brief", "letter"} <= too_large and "report" not in too_large
    for doc_id, row in rows.items():
        if doc_id in too_large:
            assert row["status"] == "FAILED" and "too large" in row["error"]
        else:
            assert row["status"] == EXPECTED_STATUS.get(doc_id, "EXTRACTED")


def test_a_path_leaving_the_folder_fails(
    engine: Engine, project: ProjectPaths, tmp_path: Path
) -> None:
    sync_project(engine, project)
    (project.documents / "brief.txt").unlink()
    (project.documents / "brief.txt").symlink_to(write(tmp_path / "secret.txt", "secret"))
    extract_pending(engine, project, max_bytes=MAX_BYTES, workers=1)
    row = documents(engine)["brief"]
    assert row["status"] == "FAILED" and "leaves the project folder" in row["error"]
    assert not project.text_file("brief").exists()


def test_a_crashing_extractor_fails_one_document_not_the_run(
    engine: Engine, project: ProjectPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = extract_module.extract_file

    def crash_on_notes(path: Path, media_type: str, max_bytes: int) -> ExtractionOutcome:
        if path.name == "notes.md":
            raise ZeroDivisionError("parser bug")
        return real(path, media_type, max_bytes)

    monkeypatch.setattr(extract_module, "extract_file", crash_on_notes)
    sync_project(engine, project)
    extracted = extract_pending(engine, project, max_bytes=MAX_BYTES, workers=1)
    assert extracted.attempted == 10
    rows = documents(engine)
    assert rows["notes"]["status"] == "FAILED"
    assert rows["notes"]["error"] == "extraction crashed: ZeroDivisionError: parser bug"
    assert rows["brief"]["status"] == "EXTRACTED"
    assert sum(row["status"] == "PENDING" for row in rows.values()) == 0


# -- the process pool ----------------------------------------------------------------------------


def test_extraction_on_a_process_pool(
    engine: Engine, paths: ProjectPaths, chunker: Chunker, key: str
) -> None:
    for i in range(72):
        write(paths.documents / f"batch{i % 3}" / f"doc-{i:03d}.txt", f"Document {i}. " + PARAGRAPH)
    write(paths.documents / "broken.pdf", b"%PDF-1.4 garbage")
    assert len(sync_project(engine, paths).new) == 73

    extracted = extract_pending(engine, paths, max_bytes=MAX_BYTES, workers=2)
    assert extracted.workers == 2
    assert extracted.attempted == 73
    assert extracted.by_status == {"EXTRACTED": 72, "FAILED": 1}
    assert [f.doc_id for f in extracted.failures] == ["broken"]
    rows = documents(engine)
    assert status_counts(engine, PROJECT) == {"EXTRACTED": 72, "FAILED": 1}
    for i in range(72):
        doc_id = f"doc-{i:03d}"
        text = paths.text_file(doc_id).read_text()
        assert text.startswith(f"Document {i}. The court held")
        assert rows[doc_id]["char_count"] == len(text)
    assert len(text_files(paths)) == 72

    chunked = chunk_project(engine, paths, chunker, key)
    assert chunked.documents == 72
    assert len(chunks(engine)) == 72
