"""On-demand inference: reading submitted texts, predicting with the latest passed model, the
predictions file, and the Dagster op's failures and metadata."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from sqlalchemy import Engine

from lexi_pipelines.classification.artifacts import MODEL_FILE, ModelStore
from lexi_pipelines.classification.errors import ArtifactIntegrityError, ClassificationInputError
from lexi_pipelines.classification.inference import (
    gather_items,
    output_path,
    read_items,
    run_inference,
    validate_target,
)
from lexi_pipelines.classification.pipeline import build_pipeline
from lexi_pipelines.classification.store import READY, finish_model, start_model
from lexi_pipelines.common.resources import DatabaseResource
from lexi_pipelines.db.engine import ensure_schema, make_engine
from lexi_pipelines.documents.resources import DocumentStorageResource
from lexi_pipelines.operations.jobs import classification_inference_job
from lexi_pipelines_tests.classification import corpus_data

PROJECT, FIELD = "news", "default"


def _engine(url: str) -> Engine:
    engine = make_engine(url)
    ensure_schema(engine)
    return engine


def _save_model(engine: Engine, storage: Path, *, passed: bool = True) -> int:
    train_x, train_y, _, _ = corpus_data.split()
    pipeline = build_pipeline().fit(train_x, train_y)
    version = start_model(engine, PROJECT, FIELD, {}, 0)
    ModelStore(storage).save(PROJECT, FIELD, version, pipeline, {"classes": sorted(set(train_y))})
    finish_model(engine, PROJECT, FIELD, version, status=READY, passed_evaluation=passed)
    return version


def _jsonl(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_read_items_accepts_ids_blank_lines_and_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "texts.jsonl"
    path.write_bytes(
        b"\xef\xbb\xbf"
        + b'{"id": "a", "text": "one"}\n\n{"id": 7, "text": "two"}\n{"text": "three"}\n'
    )
    assert [(i.id, i.text) for i in read_items(path)] == [
        ("a", "one"),
        ("7", "two"),
        ("line-4", "three"),
    ]


@pytest.mark.parametrize(
    ("lines", "where", "message"),
    [
        (['{"text": "ok"}', "{not json"], "line 2", "not JSON"),
        (['{"id": "a", "text": "ok"}', '{"id": "b"}'], "line 2", "field 'text'"),
        (['{"id": "a", "text": "ok"}', '{"id": "a", "text": "again"}'], "line 2", "duplicate id"),
        (['["a list"]'], "line 1", "expected an object"),
        (['{"id": true, "text": "x"}'], "line 1", "field 'id'"),
        (['{"text": "   "}'], "line 1", "field 'text'"),
    ],
)
def test_bad_lines_name_the_file_line_and_field(
    tmp_path: Path, lines: list[str], where: str, message: str
) -> None:
    path = _jsonl(tmp_path / "texts.jsonl", *lines)
    with pytest.raises(ClassificationInputError) as caught:
        read_items(path)
    assert str(caught.value).startswith(f"{path}: {where}: ")
    assert message in str(caught.value)
    assert caught.value.source == str(path) and caught.value.item == where


def test_missing_empty_and_non_utf8_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ClassificationInputError, match="no such file"):
        read_items(tmp_path / "absent.jsonl")
    with pytest.raises(ClassificationInputError, match="no texts"):
        read_items(_jsonl(tmp_path / "empty.jsonl", ""))
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes('{"text": "caf\xe9"}\n'.encode("latin-1"))
    with pytest.raises(ClassificationInputError, match="not UTF-8"):
        read_items(latin)
    with pytest.raises(ClassificationInputError, match="cannot read"):
        read_items(tmp_path)  # a folder given as --file


def test_inline_texts_and_file_ids_must_not_clash(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "t.jsonl", '{"id": "text-1", "text": "x"}')
    with pytest.raises(ClassificationInputError, match="text-1"):
        gather_items(["first"], path)
    with pytest.raises(ClassificationInputError, match="no texts given"):
        gather_items([], None)
    with pytest.raises(ClassificationInputError, match="text 2 is empty"):
        gather_items(["fine", " "], None)


def test_output_path_stays_inside_storage(tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    folder = storage / PROJECT / "predictions" / FIELD / "inference"
    assert output_path(storage, PROJECT, FIELD, "run1") == folder / "run1.jsonl"
    assert output_path(storage, PROJECT, FIELD, "run1", "mine.jsonl") == folder / "mine.jsonl"
    inside = str(storage / "exports" / "x.jsonl")
    assert output_path(storage, PROJECT, FIELD, "run1", inside) == storage / "exports" / "x.jsonl"
    with pytest.raises(ClassificationInputError, match="outside the storage root"):
        output_path(storage, PROJECT, FIELD, "run1", "../../../../../etc/x.jsonl")
    with pytest.raises(ClassificationInputError, match="outside the storage root"):
        output_path(storage, PROJECT, FIELD, "run1", str(tmp_path / "elsewhere.jsonl"))


@pytest.mark.parametrize(("project", "field"), [("../up", "default"), ("news", "a/b"), ("", "x")])
def test_invalid_project_or_field_names(project: str, field: str) -> None:
    with pytest.raises(ClassificationInputError, match="invalid"):
        validate_target(project, field)


def test_run_inference_writes_predictions_of_the_latest_passed_model(
    database_url: str, tmp_path: Path
) -> None:
    storage = tmp_path / "storage"
    engine = _engine(database_url)
    try:
        version = _save_model(engine, storage)
        _save_model(engine, storage, passed=False)  # newer, but failed the gate: not used
        _, _, test_x, test_y = corpus_data.split()
        items = gather_items(test_x, None)
        target = output_path(storage, PROJECT, FIELD, "run-1")
        result = run_inference(engine, storage, PROJECT, FIELD, items, target)
    finally:
        engine.dispose()
    assert result.model_version == version == 1
    assert result.count == len(test_x) and result.output == target
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    assert [r["id"] for r in rows] == [f"text-{n}" for n in range(1, len(test_x) + 1)]
    accuracy = sum(r["label"] == y for r, y in zip(rows, test_y, strict=True)) / len(rows)
    assert accuracy >= 0.8
    for row in rows:
        assert row["model_version"] == 1
        assert set(row["probabilities"]) == set(corpus_data.TOPICS)
        assert abs(sum(row["probabilities"].values()) - 1) < 1e-4
        assert row["score"] == max(row["probabilities"].values())
    assert sum(result.by_label.values()) == len(rows)
    assert result.per_second > 0
    assert [p.name for p in target.parent.iterdir()] == ["run-1.jsonl"]  # no temporary left


def test_no_passed_model_and_tampered_files_are_refused(sqlite_url: str, tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    engine = _engine(sqlite_url)
    items = gather_items(["a text"], None)
    target = tmp_path / "storage" / "out.jsonl"
    try:
        with pytest.raises(ClassificationInputError, match="no model has passed evaluation"):
            run_inference(engine, storage, PROJECT, FIELD, items, target)
        version = _save_model(engine, storage)
        model_file = ModelStore(storage).field_dir(PROJECT, FIELD) / f"v{version}" / MODEL_FILE
        model_file.write_bytes(model_file.read_bytes() + b"tampered")
        with pytest.raises(ArtifactIntegrityError, match="does not match"):
            run_inference(engine, storage, PROJECT, FIELD, items, target)
    finally:
        engine.dispose()
    assert not target.exists()


def _execute(sqlite_url: str, storage: Path, config: dict[str, Any]) -> dg.ExecuteInProcessResult:
    return classification_inference_job.execute_in_process(
        run_config={"ops": {"classify_texts": {"config": config}}},
        resources={
            "database": DatabaseResource(url=sqlite_url),
            "document_storage": DocumentStorageResource(storage_path=str(storage)),
        },
        raise_on_error=False,
    )


def test_op_reports_model_count_output_and_labels(sqlite_url: str, tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    engine = _engine(sqlite_url)
    _save_model(engine, storage)
    engine.dispose()
    texts = _jsonl(tmp_path / "t.jsonl", '{"id": "s", "text": "The telescope found a galaxy."}')
    config = {
        "project": PROJECT,
        "field": FIELD,
        "texts": ["Bake the bread in the oven."],
        "file": str(texts),
    }
    result = _execute(sqlite_url, storage, config)
    assert result.success
    [output] = [e for e in result.all_node_events if e.event_type_value == "STEP_OUTPUT"]
    metadata = {k: v.value for k, v in output.step_output_data.metadata.items()}
    path = storage / PROJECT / "predictions" / FIELD / "inference" / f"{result.run_id}.jsonl"
    assert metadata["output"] == str(path)
    assert metadata["model_version"] == 1 and metadata["count"] == 2
    assert metadata["by_label"] == {"cooking": 1, "space": 1}
    assert isinstance(metadata["predictions_per_s"], float) and metadata["predictions_per_s"] > 0
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["id"], r["label"]) for r in rows] == [("text-1", "cooking"), ("s", "space")]


def test_op_fails_without_retry_naming_the_bad_line(sqlite_url: str, tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    engine = _engine(sqlite_url)
    _save_model(engine, storage)
    engine.dispose()
    texts = _jsonl(tmp_path / "t.jsonl", '{"text": "fine"}', '{"id": "x", "txt": "typo"}')
    result = _execute(sqlite_url, storage, {"project": PROJECT, "field": FIELD, "file": str(texts)})
    assert not result.success
    kinds = [e.event_type_value for e in result.all_events]
    assert "STEP_UP_FOR_RETRY" not in kinds and kinds.count("STEP_FAILURE") == 1
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failure.step_failure_data is not None
    user_failure = failure.step_failure_data.user_failure_data
    assert user_failure is not None and user_failure.description is not None
    assert f"{texts}: line 2: field 'text'" in user_failure.description
