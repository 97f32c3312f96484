"""The documents assets materialized through Dagster on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from pypdf import PdfWriter
from sqlalchemy import select

from lexi_pipelines.common.resources import DatabaseResource
from lexi_pipelines.db.engine import make_engine
from lexi_pipelines.db.models import Chunk, Document, table_of
from lexi_pipelines.documents.assets import document_chunks, document_text, documents_registry
from lexi_pipelines.documents.checks import chunks_fit_model_window, extraction_failure_rate
from lexi_pipelines.documents.partitions import PROJECTS
from lexi_pipelines.documents.resources import DocumentStorageResource
from lexi_pipelines_tests.conftest import snapshot

PROJECT = "demo-legal"
ASSETS: list[Any] = [
    documents_registry,
    document_text,
    document_chunks,
    extraction_failure_rate,
    chunks_fit_model_window,
]


def _run(
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    project: str = PROJECT,
    *,
    raise_on_error: bool = True,
) -> dg.ExecuteInProcessResult:
    instance.add_dynamic_partitions(PROJECTS, [project])
    return dg.materialize(
        ASSETS,
        partition_key=project,
        instance=instance,
        resources=resources,
        raise_on_error=raise_on_error,
    )


def _metadata(result: dg.ExecuteInProcessResult, name: str) -> dict[str, Any]:
    key = dg.AssetKey(["documents", name])
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key == key]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def _documents(database_url: str, project: str = PROJECT) -> dict[str, dict[str, Any]]:
    table = table_of(Document)
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(table).where(table.c.project == project))
            return {row.relative_path: dict(row._mapping) for row in rows}
    finally:
        engine.dispose()


def _chunks(database_url: str, document_id: str) -> list[dict[str, Any]]:
    table = table_of(Chunk)
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            query = (
                select(table).where(table.c.document_id == document_id).order_by(table.c.ordinal)
            )
            return [dict(row._mapping) for row in conn.execute(query)]
    finally:
        engine.dispose()


def _checks(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {c.check_name: c.passed for c in result.get_asset_check_evaluations()}


def test_first_run_registers_extracts_and_chunks(
    dagster_instance: dg.DagsterInstance,
    document_resources: dict[str, Any],
    database_url: str,
    storage: Path,
) -> None:
    result = _run(dagster_instance, document_resources)
    assert _metadata(result, "documents")["new"] == 5
    text_meta = _metadata(result, "document_text")
    assert (text_meta["attempted"], text_meta["extracted"], text_meta["failed"]) == (5, 5, 0)
    assert _checks(result) == {"extraction_failure_rate": True, "chunks_fit_model_window": True}

    docs = _documents(database_url)
    assert sorted(docs) == [
        "contracts/lease-memo-latin1.txt",
        "contracts/services-agreement.txt",
        "court-notice.html",
        "engagement-letter.docx",
        "retention-policy.md",
    ]
    assert {d["status"] for d in docs.values()} == {"EXTRACTED"}
    # LexiClass convention: the id is the file stem.
    assert docs["retention-policy.md"]["id"] == "retention-policy"
    assert docs["engagement-letter.docx"]["media_type"].endswith("wordprocessingml.document")
    text_dir = storage / PROJECT / "text"
    memo = (text_dir / "lease-memo-latin1.txt").read_text(encoding="utf-8")
    assert "résumé" in memo and "\r" not in memo
    notice = (text_dir / "court-notice.txt").read_text(encoding="utf-8")
    assert "Notice of Hearing" in notice and "analytics" not in notice
    assert "Harbor & Pine" in notice and "JavaScript" not in notice
    letter = (text_dir / "engagement-letter.txt").read_text(encoding="utf-8")
    assert "USD 650" in letter  # table cells are text too
    policy = (text_dir / "retention-policy.txt").read_text(encoding="utf-8")
    assert "\n2\n" not in policy  # the page-number line is gone

    chunks = _chunks(database_url, "retention-policy")
    assert chunks and chunks[0]["text"].startswith("# Records Retention Policy")
    assert all(0 < c["token_count"] <= 254 for c in chunks)


def test_rematerializing_without_change_does_nothing_and_keeps_state(
    dagster_instance: dg.DagsterInstance,
    document_resources: dict[str, Any],
    database_url: str,
) -> None:
    _run(dagster_instance, document_resources)
    before = snapshot(database_url)
    result = _run(dagster_instance, document_resources)
    assert snapshot(database_url) == before
    assert _metadata(result, "documents")["unchanged"] == 5
    assert _metadata(result, "document_text")["attempted"] == 0
    assert _metadata(result, "document_chunks")["documents_chunked"] == 0


def test_changed_file_is_re_extracted_and_deleted_file_removed(
    dagster_instance: dg.DagsterInstance,
    document_resources: dict[str, Any],
    database_url: str,
    storage: Path,
) -> None:
    _run(dagster_instance, document_resources)
    documents = storage / PROJECT / "documents"
    old_chunks = _chunks(database_url, "services-agreement")
    (documents / "contracts" / "services-agreement.txt").write_text(
        "AMENDED AGREEMENT\n\nThe fees are now due within fifteen days.\n"
    )
    (documents / "court-notice.html").unlink()

    result = _run(dagster_instance, document_resources)
    registry = _metadata(result, "documents")
    assert (registry["new"], registry["changed"], registry["deleted"]) == (0, 1, 1)
    assert _metadata(result, "document_text")["attempted"] == 1
    assert _metadata(result, "document_chunks")["documents_chunked"] == 1

    docs = _documents(database_url)
    assert "court-notice.html" not in docs
    assert _chunks(database_url, "court-notice") == []
    assert not (storage / PROJECT / "text" / "court-notice.txt").exists()
    new_chunks = _chunks(database_url, "services-agreement")
    assert new_chunks[0]["text"].startswith("AMENDED AGREEMENT")
    assert {c["id"] for c in new_chunks}.isdisjoint({c["id"] for c in old_chunks})


def _encrypted_pdf(path: Path) -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-128")
    with open(path, "wb") as handle:
        writer.write(handle)


def _add_legal_files(storage: Path, legal_dir: Path) -> Path:
    folder = storage / PROJECT / "documents" / "court"
    folder.mkdir(parents=True)
    for name in ("vector-pdf.pdf", "image-pdf.pdf", "empty.pdf", "word-docx.docx"):
        shutil.copy(legal_dir / name, folder / name)
    _encrypted_pdf(folder / "sealed.pdf")
    return folder


def test_bad_files_fail_alone_with_their_reason(
    dagster_instance: dg.DagsterInstance,
    document_resources: dict[str, Any],
    database_url: str,
    storage: Path,
    legal_dir: Path,
) -> None:
    _add_legal_files(storage, legal_dir)
    result = _run(dagster_instance, document_resources)
    assert result.success
    docs = _documents(database_url)
    assert docs["court/vector-pdf.pdf"]["status"] == "EXTRACTED"
    assert docs["court/vector-pdf.pdf"]["page_count"] == 30
    assert docs["court/word-docx.docx"]["status"] == "EXTRACTED"
    assert docs["court/image-pdf.pdf"]["status"] == "NEEDS_OCR"
    assert docs["court/empty.pdf"]["status"] == "FAILED"
    assert docs["court/empty.pdf"]["error"] == "empty file"
    assert docs["court/sealed.pdf"]["status"] == "FAILED"
    assert "password" in docs["court/sealed.pdf"]["error"]
    text_meta = _metadata(result, "document_text")
    assert (text_meta["failed"], text_meta["needs_ocr"], text_meta["pdf_pages"]) == (2, 1, 32)
    assert "court/empty.pdf" in text_meta["failures"]
    # 2 of 10 failed: under the default 25 %.
    assert _checks(result)["extraction_failure_rate"]
    long_chunks = _chunks(database_url, "vector-pdf")
    assert len(long_chunks) > 20
    assert max(c["token_count"] for c in long_chunks) <= 254


def test_failure_rate_above_threshold_blocks_chunking(
    dagster_instance: dg.DagsterInstance,
    database_url: str,
    storage: Path,
) -> None:
    folder = storage / PROJECT / "documents"
    for i in range(4):
        (folder / f"broken-{i}.pdf").write_bytes(b"%PDF-1.4 not really a pdf")
    resources = {
        "database": DatabaseResource(url=database_url),
        "document_storage": DocumentStorageResource(
            storage_path=str(storage), max_failure_rate=0.3
        ),
    }
    result = _run(dagster_instance, resources, raise_on_error=False)
    assert not result.success
    evaluation = next(
        c for c in result.get_asset_check_evaluations() if c.check_name == "extraction_failure_rate"
    )
    assert not evaluation.passed
    assert evaluation.metadata["failed"].value == 4
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert dg.AssetKey(["documents", "document_chunks"]) not in materialized
    docs = _documents(database_url)
    assert docs["broken-0.pdf"]["error"].startswith("corrupt PDF")


def test_missing_project_folder_fails_without_retry_and_keeps_rows(
    dagster_instance: dg.DagsterInstance,
    document_resources: dict[str, Any],
    database_url: str,
    storage: Path,
) -> None:
    _run(dagster_instance, document_resources)
    before = snapshot(database_url)
    shutil.rmtree(storage / PROJECT)
    result = _run(dagster_instance, document_resources, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert failure.step_failure_data.error is not None
    assert "does not exist" in failure.step_failure_data.error.message
    assert not any(e.event_type_value == "STEP_RESTARTED" for e in result.all_events)
    assert snapshot(database_url) == before


def test_invalid_project_name_is_a_clear_permanent_failure(
    dagster_instance: dg.DagsterInstance, document_resources: dict[str, Any]
) -> None:
    result = _run(dagster_instance, document_resources, "bad..name", raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert failure.step_failure_data.error is not None
    assert "invalid project name" in failure.step_failure_data.error.message


def test_oversize_and_colliding_files(
    dagster_instance: dg.DagsterInstance,
    database_url: str,
    storage: Path,
) -> None:
    folder = storage / PROJECT / "documents"
    (folder / "big.txt").write_text("x " * 40_000)
    (folder / "extra").mkdir()
    (folder / "extra" / "retention-policy.txt").write_text("A second file with the same stem.")
    resources = {
        "database": DatabaseResource(url=database_url),
        "document_storage": DocumentStorageResource(storage_path=str(storage), max_file_mb=0.05),
    }
    _run(dagster_instance, resources)
    docs = _documents(database_url)
    assert docs["big.txt"]["status"] == "FAILED"
    assert "too large" in docs["big.txt"]["error"]
    assert docs["retention-policy.md"]["id"] == "retention-policy"
    other = docs["extra/retention-policy.txt"]["id"]
    assert other.startswith("retention-policy-") and other != "retention-policy"


def test_text_changes_of_chunk_settings_rechunk_everything(
    dagster_instance: dg.DagsterInstance,
    database_url: str,
    storage: Path,
) -> None:
    def resources(tokens: int) -> dict[str, Any]:
        return {
            "database": DatabaseResource(url=database_url),
            "document_storage": DocumentStorageResource(
                storage_path=str(storage), chunk_tokens=tokens, chunk_overlap_tokens=8
            ),
        }

    _run(dagster_instance, resources(0))
    result = _run(dagster_instance, resources(64))
    assert _metadata(result, "document_text")["attempted"] == 0
    assert _metadata(result, "document_chunks")["documents_chunked"] == 5
    chunks = _chunks(database_url, "retention-policy")
    assert len(chunks) > 1 and max(c["token_count"] for c in chunks) <= 64


def _names(paths: Sequence[Path]) -> list[str]:
    return sorted(p.name for p in paths)


@pytest.mark.parametrize("workers", [0])
def test_many_documents_use_the_process_pool(
    dagster_instance: dg.DagsterInstance,
    sqlite_url: str,
    storage: Path,
    workers: int,
) -> None:
    folder = storage / "bulk" / "documents"
    folder.mkdir(parents=True)
    for i in range(80):
        (folder / f"note-{i:03d}.txt").write_text(f"Note {i}.\n\nIt says {i} things. " * 20)
    resources = {
        "database": DatabaseResource(url=sqlite_url),
        "document_storage": DocumentStorageResource(
            storage_path=str(storage), extraction_workers=workers
        ),
    }
    result = _run(dagster_instance, resources, "bulk")
    meta = _metadata(result, "document_text")
    assert meta["extracted"] == 80
    assert meta["workers"] == min(os.cpu_count() or 1, 80)
    assert len(_names(list((storage / "bulk" / "text").iterdir()))) == 80
