"""Train, evaluate, gate and predict a field end to end through Dagster, on both databases."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from sqlalchemy import select

from lexi_pipelines.classification.assets import (
    field_model,
    field_model_evaluation,
    field_predictions,
)
from lexi_pipelines.classification.checks import model_beats_baseline
from lexi_pipelines.classification.partitions import FIELDS
from lexi_pipelines.classification.resources import ModelArtifactIOManager
from lexi_pipelines.classification.sensors import labels_sensor
from lexi_pipelines.common.resources import DatabaseResource
from lexi_pipelines.db.engine import make_engine
from lexi_pipelines.db.models import ClassifierModel, Prediction, table_of
from lexi_pipelines.documents.assets import document_chunks, document_text, documents_registry
from lexi_pipelines.documents.partitions import PROJECTS
from lexi_pipelines.documents.resources import DocumentStorageResource

PROJECT = "claims"
KEY = f"{PROJECT}/default"
TOPICS = {
    "water": "river dam reservoir irrigation flow drought basin compact allocation",
    "contract": "agreement breach price payment clause party invoice delivery warranty",
    "criminal": "defendant sentence jury verdict prosecution witness evidence felony",
}
CLASSIFICATION = [field_model, field_model_evaluation, field_predictions, model_beats_baseline]
DOCUMENTS = [documents_registry, document_text, document_chunks]


def _write_corpus(storage: Path, per_class: int = 14, unlabeled: int = 6) -> None:
    rnd = random.Random(3)
    folder = storage / PROJECT / "documents"
    folder.mkdir(parents=True)
    labels = []
    filler = [
        "the",
        "court",
        "said",
        "that",
        "this",
        "matter",
        "was",
        "heard",
        "and",
        "decided",
        "on",
        "the",
        "record",
    ]
    for topic, words in TOPICS.items():
        vocabulary = words.split()
        for i in range(per_class):
            text = " ".join(rnd.choice(vocabulary + filler) for _ in range(60))
            (folder / f"{topic}-{i:02d}.txt").write_text(text)
            labels.append(f"{topic}-{i:02d}\t{topic}")
    for i in range(unlabeled):
        topic = list(TOPICS)[i % 3]
        text = " ".join(rnd.choice(TOPICS[topic].split()) for _ in range(40))
        (folder / f"new-{i}.txt").write_text(text)
    labels.append("ghost-document\twater")  # names no document: reported, not fatal
    (storage / PROJECT / "labels.tsv").write_text("\n".join(labels) + "\n")


@pytest.fixture
def setup(database_url: str, tmp_path: Path) -> dict[str, Any]:
    storage = tmp_path / "storage"
    _write_corpus(storage)
    database = DatabaseResource(url=database_url)
    return {
        "database": database,
        "document_storage": DocumentStorageResource(storage_path=str(storage)),
        "model_io_manager": ModelArtifactIOManager(storage_path=str(storage), database=database),
    }


def _rows(database_url: str, model: Any) -> list[dict[str, Any]]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(table_of(model)))]
    finally:
        engine.dispose()


def _train(instance: dg.DagsterInstance, resources: dict[str, Any]) -> dg.ExecuteInProcessResult:
    instance.add_dynamic_partitions(FIELDS, [KEY])
    return dg.materialize(CLASSIFICATION, partition_key=KEY, resources=resources, instance=instance)


def test_train_evaluate_gate_and_predict(
    setup: dict[str, Any], database_url: str, tmp_path: Path
) -> None:
    storage = tmp_path / "storage"
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(PROJECTS, [PROJECT])
        dg.materialize(DOCUMENTS, partition_key=PROJECT, resources=setup, instance=instance)
        first = _train(instance, setup)
        assert first.success
        evaluation: dict[str, Any] = {
            k: v.value
            for k, v in first.asset_materializations_for_node(
                "classification__field_model_evaluation"
            )[0].metadata.items()
        }
        assert evaluation["accuracy"] >= 0.8
        assert evaluation["macro_f1"] > evaluation["majority_macro_f1"]
        models = _rows(database_url, ClassifierModel)
        assert [(m["version"], m["status"], m["passed_evaluation"]) for m in models] == [
            (1, "READY", True)
        ]
        manifest = json.loads(
            (storage / PROJECT / "models" / "default" / "v1" / "manifest.json").read_text()
        )
        assert manifest["classes"] == sorted(TOPICS) and "model.pkl" in manifest["artifacts"]
        predictions = _rows(database_url, Prediction)
        assert len(predictions) == 3 * 14 + 6  # every extracted document
        assert {p["model_version"] for p in predictions} == {1}
        history = storage / PROJECT / "predictions" / "default" / "predictions_v1.jsonl"
        assert len(history.read_text().splitlines()) == len(predictions)

        second = _train(instance, setup)
        assert second.success
        assert [m["version"] for m in _rows(database_url, ClassifierModel)] == [1, 2]
        assert {p["model_version"] for p in _rows(database_url, Prediction)} == {2}
        assert (storage / PROJECT / "predictions" / "default" / "predictions_v2.jsonl").exists()


def test_single_class_field_fails_without_retry_and_leaves_no_training_row(
    setup: dict[str, Any], database_url: str, tmp_path: Path
) -> None:
    storage = tmp_path / "storage"
    (storage / PROJECT / "labels.tsv").write_text("water-00\twater\nwater-01\twater\n")
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(PROJECTS, [PROJECT])
        dg.materialize(DOCUMENTS, partition_key=PROJECT, resources=setup, instance=instance)
        instance.add_dynamic_partitions(FIELDS, [KEY])
        result = dg.materialize(
            CLASSIFICATION,
            partition_key=KEY,
            resources=setup,
            instance=instance,
            raise_on_error=False,
        )
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert failure.step_failure_data.error is not None
    assert "fewer than two classes" in failure.step_failure_data.error.message
    assert not any(e.event_type_value == "STEP_RESTARTED" for e in result.all_events)
    assert all(m["status"] != "TRAINING" for m in _rows(database_url, ClassifierModel))


def test_labels_sensor_adds_fields_and_requests_training(tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    _write_corpus(storage)
    resources = {"document_storage": DocumentStorageResource(storage_path=str(storage))}
    with dg.instance_for_test() as instance:
        with dg.build_sensor_context(instance=instance, resources=resources) as context:
            first = labels_sensor(context)
        assert isinstance(first, dg.SensorResult)
        assert [r.partition_key for r in first.run_requests or []] == [KEY]
        with dg.build_sensor_context(
            instance=instance, resources=resources, cursor=first.cursor
        ) as context:
            idle = labels_sensor(context)
        assert isinstance(idle, dg.SensorResult) and not idle.run_requests
        labels = storage / PROJECT / "labels.tsv"
        labels.write_text(labels.read_text() + "new-0\twater\n")
        with dg.build_sensor_context(
            instance=instance, resources=resources, cursor=first.cursor
        ) as context:
            changed = labels_sensor(context)
        assert isinstance(changed, dg.SensorResult)
        assert [r.partition_key for r in changed.run_requests or []] == [KEY]
