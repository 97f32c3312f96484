"""Training, evaluating and predicting one field, on top of labels, store and pipeline."""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from lexi_pipelines.classification.artifacts import ModelStore
from lexi_pipelines.classification.errors import ClassificationInputError
from lexi_pipelines.classification.labels import read_labels
from lexi_pipelines.classification.metrics import EvaluationReport, evaluate
from lexi_pipelines.classification.model import TrainedModel
from lexi_pipelines.classification.pipeline import PipelineConfig, build_pipeline
from lexi_pipelines.classification.store import (
    FAILED,
    TrainingData,
    documents_to_predict,
    finish_model,
    start_model,
    store_labels,
    store_predictions,
    training_data,
)
from lexi_pipelines.common.files import write_text_atomically
from lexi_pipelines.documents.projects import ProjectPaths

MIN_CLASSES = 2
_PREDICT_BATCH = 2000


@dataclass
class PreparedField:
    project: str
    field: str
    data: TrainingData
    classes: list[str]
    labels_hash: str
    source: str


def prepare_field(engine: Engine, storage: Path, project: str, field_name: str) -> PreparedField:
    """Load the field's labels into the database and gather its texts; refuse unusable data."""
    root = storage / project
    labels = read_labels(root).get(field_name)
    if labels is None:
        raise ClassificationInputError(
            f"{root}: no label file defines field {field_name!r}", source=str(root), field="field"
        )
    source = ", ".join(sorted(labels.sources))
    # One transaction: labels that turn out unusable roll back to the ones stored before.
    with engine.begin() as conn:
        store_labels(conn, project, labels, labels.assigned_splits(seed=project), source)
        data = training_data(conn, storage, project, field_name)
        train_classes = sorted(set(data.train_labels))
        if not data.train_labels:
            raise ClassificationInputError(
                f"{project}/{field_name}: no training labels with a known, extracted document "
                f"({len(data.unknown_documents)} unknown, {len(data.without_text)} without "
                "text)",
                source=source,
                field="label",
            )
        if len(train_classes) < MIN_CLASSES:
            raise ClassificationInputError(
                f"{project}/{field_name}: fewer than two classes to learn from "
                f"({train_classes or 'none'}) in {source}",
                source=source,
                field="label",
            )
    return PreparedField(project, field_name, data, train_classes, labels.content_hash(), source)


def train_field(
    engine: Engine, models: ModelStore, prepared: PreparedField, config: PipelineConfig
) -> TrainedModel:
    """Fit a new version; its ``models`` row is TRAINING until the artifacts are saved."""
    pipeline = build_pipeline(config)  # unknown plugins or parameters fail here, before any row
    # JSON round trip: the manifest and the models row hold plain JSON values.
    plugins: dict[str, Any] = json.loads(json.dumps(config.to_dict(), default=str))
    # Staging folders of a save that a killed run left behind are never completed.
    models.clean_staging(prepared.project, prepared.field)
    disk = models.versions(prepared.project, prepared.field)
    version = start_model(engine, prepared.project, prepared.field, plugins, max(disk, default=0))
    data = prepared.data
    try:
        started = time.perf_counter()
        pipeline.fit(data.train_texts, data.train_labels)
        fit_seconds = time.perf_counter() - started
    except Exception as exc:
        finish_model(
            engine, prepared.project, prepared.field, version, status=FAILED, error=str(exc)
        )
        raise
    manifest = {
        "plugins": plugins,
        "training_data_hash": _training_hash(data),
        "labels_hash": prepared.labels_hash,
        "classes": sorted(set(data.train_labels)),
        "train_documents": len(data.train_texts),
        "test_documents": len(data.test_texts),
        "class_counts": dict(Counter(data.train_labels)),
        "fit_seconds": round(fit_seconds, 3),
    }
    finish_model(
        engine,
        prepared.project,
        prepared.field,
        version,
        training_data_hash=manifest["training_data_hash"],
    )
    return TrainedModel(version, pipeline, manifest)


def _training_hash(data: TrainingData) -> str:
    h = hashlib.sha256()
    for text, label in zip(data.train_texts, data.train_labels, strict=True):
        h.update(hashlib.sha256(text.encode()).digest())
        h.update(label.encode() + b"\n")
    return h.hexdigest()


def evaluate_model(model: TrainedModel, data: TrainingData) -> EvaluationReport:
    if not data.test_texts:
        raise ClassificationInputError("no test labels: nothing to evaluate on", field="split")
    predicted, _confidence = model.pipeline.predict(data.test_texts)
    classes = sorted(set(data.test_labels) | set(model.manifest.get("classes", [])))
    return evaluate(data.test_labels, list(predicted), classes)


@dataclass
class PredictionRun:
    version: int
    predicted: int = 0
    by_class: dict[str, int] = field(default_factory=dict)
    history_file: Path | None = None
    duration_s: float = 0.0


def predict_field(
    engine: Engine, storage: Path, project: str, field_name: str, model: TrainedModel
) -> PredictionRun:
    """Predict every extracted document the model version has not predicted yet."""
    started = time.perf_counter()
    run = PredictionRun(model.version)
    pending = documents_to_predict(engine, project, field_name, model.version)
    paths = ProjectPaths(storage, project)
    history = storage / project / "predictions" / field_name / f"predictions_v{model.version}.jsonl"
    history.parent.mkdir(parents=True, exist_ok=True)
    counts: Counter[str] = Counter()
    for start in range(0, len(pending), _PREDICT_BATCH):
        batch = pending[start : start + _PREDICT_BATCH]
        texts, ids = [], []
        for doc_id in batch:
            try:
                texts.append(paths.text_file(doc_id).read_text("utf-8"))
                ids.append(doc_id)
            except FileNotFoundError:
                continue
        if not texts:
            continue
        labels, confidences = model.pipeline.predict(texts)
        now = datetime.now(UTC)
        rows = [
            {
                "project": project,
                "field": field_name,
                "document_id": doc_id,
                "class_name": str(label),
                "confidence": float(conf),
                "model_version": model.version,
                "predicted_at": now,
            }
            for doc_id, label, conf in zip(ids, labels, confidences, strict=True)
        ]
        # History first, then the table: a crash between them repeats these documents next
        # run (the table decides what is pending), never loses them from the history.
        _append_jsonl(history, rows)
        store_predictions(engine, rows)
        counts.update(str(label) for label in labels)
        run.predicted += len(rows)
    run.by_class = dict(counts)
    run.history_file = history
    run.duration_s = time.perf_counter() - started
    return run


def _append_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    lines = "".join(
        json.dumps(
            {
                "document_id": r["document_id"],
                "class": r["class_name"],
                "confidence": round(r["confidence"], 6),
                "model_version": r["model_version"],
                "predicted_at": r["predicted_at"].isoformat(),
            }
        )
        + "\n"
        for r in rows
    )
    if not path.exists():
        write_text_atomically(path, lines)
        return
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(lines)
