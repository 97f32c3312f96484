"""SIGKILL in the middle of a feed ingest, a document extraction and a model training.

Each run is a real process group (the runner, its pool workers) killed with no chance to
clean up, as an OOM kill or a lost node would. Afterwards the committed state must be
complete and consistent, and a re-run must reach the state of an undisturbed run.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from sqlalchemy import func, select

from lexi_pipelines.catalog.config import IngestorConfig
from lexi_pipelines.classification.artifacts import MANIFEST_FILE, MODEL_FILE, ModelStore
from lexi_pipelines.classification.partitions import FIELDS
from lexi_pipelines.classification.resources import ModelArtifactIOManager
from lexi_pipelines.classification.store import latest_model
from lexi_pipelines.common.resources import DatabaseResource
from lexi_pipelines.db.engine import ensure_schema, make_engine
from lexi_pipelines.db.models import Chunk, ClassifierModel, Document, Prediction, table_of
from lexi_pipelines.documents.chunk import chunk_project
from lexi_pipelines.documents.extract import extract_pending
from lexi_pipelines.documents.partitions import PROJECTS
from lexi_pipelines.documents.projects import project_paths
from lexi_pipelines.documents.registry import sync_project
from lexi_pipelines.documents.resources import DocumentStorageResource
from lexi_pipelines_tests import pg
from lexi_pipelines_tests.classification.test_assets import (
    CLASSIFICATION,
    KEY,
    _write_corpus,
)
from lexi_pipelines_tests.classification.test_assets import (
    DOCUMENTS as DOCUMENT_ASSETS,
)
from lexi_pipelines_tests.classification.test_assets import PROJECT as LABELLED_PROJECT
from lexi_pipelines_tests.faults.conftest import (
    bench_ingestor,
    ingest_catalog,
    sessions,
    writing_transactions,
)
from lexi_pipelines_tests.faults.process import Run, RunEnvironment, wait_for
from lexi_pipelines_tests.faults.state import Tables, file_hashes, is_scratch, table_rows

pytestmark = pytest.mark.postgres
NOTHING = frozenset[str]()


def _rows(database_url: str, query: Any) -> list[Any]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(query))
    finally:
        engine.dispose()


def _migrate(database_url: str) -> None:
    engine = make_engine(database_url)
    ensure_schema(engine)
    engine.dispose()


def _wait_for_no_sessions(database_url: str, run: Run) -> None:
    # The server rolls a dead client's transaction back once it notices the closed socket.
    deadline = time.monotonic() + 30
    while sessions(database_url) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sessions(database_url) == 0, run.output()[-2000:]


# --- catalog: one transaction per partition ------------------------------------------------


def test_killed_feed_ingest_rolls_back_and_rerun_matches_an_undisturbed_run(
    postgres_url: str, large_catalog: Path, large_feed_reference: Tables, tmp_path: Path
) -> None:
    ingestor: IngestorConfig = bench_ingestor(large_catalog)
    ingest_catalog(postgres_url, ingestor, feed=False)
    before = table_rows(postgres_url, without=NOTHING)
    env = RunEnvironment(tmp_path / "home", postgres_url, large_catalog)

    run = Run(env, "feed", ingestor.name)
    wait_for(lambda: writing_transactions(postgres_url), run, "the feed transaction wrote rows")
    time.sleep(0.5)  # well into the COPY stream, not at its first row
    assert run.running() and writing_transactions(postgres_url), run.output()[-2000:]
    run.kill()
    _wait_for_no_sessions(postgres_url, run)

    # Not one row of the half-streamed feed: the tables are exactly as before the run.
    assert table_rows(postgres_url, without=NOTHING) == before

    summary = Run(env, "feed", ingestor.name).summary()
    assert summary["success"], summary
    assert table_rows(postgres_url) == large_feed_reference


# --- documents: extraction commits every 500 documents -------------------------------------

BULK = "bulk"
BULK_FILES = 1500
BATCH = 500  # documents.extract._COMMIT_EVERY
_SENTENCE = (
    "the court held that the contract was void because the party in breach had failed to "
    "deliver the goods within the time agreed and the damages claimed were proven at trial"
)
_WORDS = _SENTENCE.split(" ")


def _bulk_project(storage: Path) -> None:
    folder = storage / BULK / "documents"
    folder.mkdir(parents=True)
    for i in range(BULK_FILES):
        words = [_WORDS[(i * 7 + k * (i % 5 + 1)) % len(_WORDS)] for k in range(120)]
        paragraphs = [" ".join(words[j : j + 40]) + "." for j in range(0, 120, 40)]
        (folder / f"note-{i:05d}.txt").write_text(f"Note {i}\n\n" + "\n\n".join(paragraphs))


def _status_counts(database_url: str) -> dict[str, int]:
    query = (
        select(Document.status, func.count())
        .where(Document.project == BULK)
        .group_by(Document.status)
    )
    return {status: count for status, count in _rows(database_url, query)}


def _documents_reference(storage: Path) -> tuple[Tables, dict[str, str]]:
    """Tables and files after an undisturbed run of the three documents assets."""
    url = pg.create_database("lexi_reference")
    try:
        engine = make_engine(url)
        ensure_schema(engine)
        resource = DocumentStorageResource(storage_path=str(storage))
        paths = project_paths(storage, BULK)
        sync_project(engine, paths)
        extract_pending(engine, paths, max_bytes=resource.max_bytes)
        chunker, key = resource.chunker()
        chunk_project(engine, paths, chunker, key)
        engine.dispose()
        return table_rows(url), file_hashes(storage / BULK)
    finally:
        pg.drop_database(url)


def test_killed_extraction_keeps_whole_batches_and_rerun_matches_an_undisturbed_run(
    postgres_url: str, tmp_path: Path
) -> None:
    env = RunEnvironment(tmp_path / "home", postgres_url)
    _bulk_project(env.storage)
    reference_storage = tmp_path / "reference"
    shutil.copytree(env.storage, reference_storage)  # copy2: same sizes and mtimes
    reference_tables, reference_files = _documents_reference(reference_storage)
    _migrate(postgres_url)  # the probe below reads the tables

    run = Run(env, "documents", BULK)

    def one_batch_committed_and_more_to_do() -> bool:
        counts = _status_counts(postgres_url)
        return counts.get("EXTRACTED", 0) >= BATCH and counts.get("PENDING", 0) > 0

    wait_for(one_batch_committed_and_more_to_do, run, "the first extraction batch committed")
    run.kill()
    _wait_for_no_sessions(postgres_url, run)

    # The registry committed whole; extraction committed whole batches and nothing between.
    counts = _status_counts(postgres_url)
    assert sum(counts.values()) == BULK_FILES
    assert set(counts) == {"EXTRACTED", "PENDING"}, counts
    assert counts["EXTRACTED"] % BATCH == 0, counts
    # Every committed EXTRACTED row has its complete text file ...
    text_dir = env.storage / BULK / "text"
    rows = _rows(
        postgres_url,
        select(Document.id, Document.status, Document.text_sha256, Document.char_count).where(
            Document.project == BULK
        ),
    )
    status_of = {doc_id: status for doc_id, status, _, _ in rows}
    for doc_id, status, text_sha256, char_count in rows:
        if status == "EXTRACTED":
            text = (text_dir / f"{doc_id}.txt").read_text(encoding="utf-8")
            assert (hashlib.sha256(text.encode()).hexdigest(), len(text)) == (
                text_sha256, char_count
            ), doc_id  # fmt: skip
    # ... and every visible text file is whole: written atomically, either committed or
    # belonging to a PENDING document whose batch had not committed (the re-run redoes it).
    for name, digest in file_hashes(text_dir).items():
        assert status_of[name.removesuffix(".txt")] in ("EXTRACTED", "PENDING"), name
        assert digest == reference_files[f"text/{name}"], name
    assert not _rows(postgres_url, select(Chunk.id).limit(1))  # chunking never started

    _materialize(DOCUMENT_ASSETS, PROJECTS, BULK, env)  # the re-run
    assert table_rows(postgres_url) == reference_tables
    assert file_hashes(env.storage / BULK) == reference_files
    # A kill can strand an atomic write's temporary; readers never see it (hidden name).
    leftovers = set(file_hashes(env.storage / BULK, scratch=True)) - set(reference_files)
    assert all(is_scratch(name) and name.endswith(".tmp") for name in leftovers), leftovers


# --- classification: a model version is complete on disk or absent -------------------------


def _labelled_documents(storage: Path, database_url: str) -> None:
    _write_corpus(storage)
    engine = make_engine(database_url)
    ensure_schema(engine)
    paths = project_paths(storage, LABELLED_PROJECT)
    sync_project(engine, paths)
    extract_pending(engine, paths, max_bytes=10**8)
    engine.dispose()


def _materialize(assets: list[Any], partitions: str, key: str, env: RunEnvironment) -> None:
    """A run in this process with the resources the code location builds for ``env``."""
    database = DatabaseResource(url=env.database_url)
    resources = {
        "database": database,
        "document_storage": DocumentStorageResource(storage_path=str(env.storage)),
        "model_io_manager": ModelArtifactIOManager(
            storage_path=str(env.storage), database=database
        ),
    }
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(partitions, [key])
        result = dg.materialize(assets, partition_key=key, resources=resources, instance=instance)
        assert result.success


MODEL_COLUMNS = ("plugins", "training_data_hash", "metrics", "passed_evaluation")


def _models(database_url: str) -> list[dict[str, Any]]:
    models = table_of(ClassifierModel)
    return [
        dict(row._mapping) for row in _rows(database_url, select(models).order_by(models.c.version))
    ]


def _predictions(database_url: str) -> list[tuple[Any, ...]]:
    columns = (Prediction.class_name, Prediction.confidence, Prediction.model_version)
    query = select(Prediction.document_id, *columns).order_by(Prediction.document_id)
    return [tuple(row) for row in _rows(database_url, query)]


def _history(path: Path) -> list[tuple[Any, ...]]:
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    return sorted((r["document_id"], r["class"], r["confidence"]) for r in lines)


def _same_predictions(ours: list[tuple[Any, ...]], theirs: list[tuple[Any, ...]]) -> bool:
    # Equal fits agree on every class; confidences only to float noise (seen: 1e-7 apart).
    return [p[:2] for p in ours] == [p[:2] for p in theirs] and all(
        p[2] == pytest.approx(q[2], abs=1e-5) for p, q in zip(ours, theirs, strict=True)
    )


def _manifest_content(manifest: dict[str, Any]) -> dict[str, Any]:
    # What a version was trained from and on; not when, how fast, or its pickle's bytes
    # (pickles of equal fits differ from process to process).
    return {
        key: manifest[key]
        for key in ("plugins", "training_data_hash", "labels_hash", "classes", "class_counts")
    }


@dataclass(frozen=True)
class TrainingReference:
    model: dict[str, Any]
    predictions: list[tuple[Any, ...]]
    manifest: dict[str, Any]
    history: list[tuple[Any, ...]]


@pytest.fixture(scope="module")
def training_reference(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory
) -> TrainingReference:
    """What an undisturbed training run of the labelled corpus leaves (its version is 1)."""
    url = pg.create_database("lexi_reference")
    try:
        env = RunEnvironment(tmp_path_factory.mktemp("training-reference"), url)
        _labelled_documents(env.storage, url)
        _materialize(CLASSIFICATION, FIELDS, KEY, env)
        (model,) = _models(url)
        history = env.storage / LABELLED_PROJECT / "predictions" / "default"
        return TrainingReference(
            model,
            _predictions(url),
            ModelStore(env.storage).manifest(LABELLED_PROJECT, "default", 1),
            _history(history / "predictions_v1.jsonl"),
        )
    finally:
        pg.drop_database(url)


@pytest.mark.parametrize("point", ["fit", "save"])
def test_killed_training_leaves_no_half_written_version_and_rerun_matches(
    point: str, postgres_url: str, tmp_path: Path, training_reference: TrainingReference
) -> None:
    env = RunEnvironment(tmp_path / "home", postgres_url)
    _labelled_documents(env.storage, postgres_url)

    run = Run(env, "training", KEY, pause=point)
    marker = env.home / "paused"
    wait_for(marker.exists, run, f"training reached the {point} pause")
    run.kill()
    _wait_for_no_sessions(postgres_url, run)

    store = ModelStore(env.storage)
    field_dir = store.field_dir(LABELLED_PROJECT, "default")
    # Nothing a loader could pick up: no version folder, no READY row.
    assert store.versions(LABELLED_PROJECT, "default") == []
    assert not [p for p in field_dir.glob("v*")] if field_dir.exists() else True
    engine = make_engine(postgres_url)
    assert latest_model(engine, LABELLED_PROJECT, "default") is None
    engine.dispose()
    assert [(m["version"], m["status"], m["path"]) for m in _models(postgres_url)] == [
        (1, "TRAINING", None)
    ]
    if point == "save":  # provably mid-write: the pickle is there, its manifest is not
        (staging,) = field_dir.glob(".v1.*.tmp")
        assert (staging / MODEL_FILE).is_file() and not (staging / MANIFEST_FILE).exists()

    _materialize(CLASSIFICATION, FIELDS, KEY, env)  # the re-run

    # The dead attempt left nothing behind: the re-run is what an undisturbed run makes.
    (model,) = _models(postgres_url)
    assert (model["version"], model["status"]) == (1, "READY")
    reference = training_reference
    assert {k: model[k] for k in MODEL_COLUMNS} == {k: reference.model[k] for k in MODEL_COLUMNS}
    predictions = _predictions(postgres_url)
    assert _same_predictions(predictions, reference.predictions)
    assert {p[-1] for p in predictions} == {1}
    assert sorted(p.name for p in field_dir.iterdir()) == ["v1"]  # staging folders cleaned
    manifest = store.manifest(LABELLED_PROJECT, "default", 1)
    assert _manifest_content(manifest) == _manifest_content(reference.manifest)
    history = env.storage / LABELLED_PROJECT / "predictions" / "default"
    assert _same_predictions(_history(history / "predictions_v1.jsonl"), reference.history)
