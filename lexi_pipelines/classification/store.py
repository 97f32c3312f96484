"""Database side of classification: labels, model versions and latest predictions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, select, update

from lexi_pipelines.classification.labels import FieldLabels
from lexi_pipelines.db.bulk import bulk_insert, bulk_upsert
from lexi_pipelines.db.models import (
    ClassifierModel,
    Document,
    DocumentLabel,
    Field,
    FieldClass,
    Prediction,
    table_of,
)
from lexi_pipelines.documents.projects import ProjectPaths

FIELDS, CLASSES, LABELS = table_of(Field), table_of(FieldClass), table_of(DocumentLabel)
MODELS, PREDICTIONS, DOCUMENTS = table_of(ClassifierModel), table_of(Prediction), table_of(Document)

TRAINING, READY, FAILED = "TRAINING", "READY", "FAILED"


@dataclass
class TrainingData:
    train_texts: list[str] = field(default_factory=list)
    train_labels: list[str] = field(default_factory=list)
    test_ids: list[str] = field(default_factory=list)
    test_texts: list[str] = field(default_factory=list)
    test_labels: list[str] = field(default_factory=list)
    unknown_documents: list[str] = field(default_factory=list)
    without_text: list[str] = field(default_factory=list)


def store_labels(
    conn: Connection, project: str, labels: FieldLabels, splits: dict[str, bool], source: str
) -> None:
    """Replace the field's classes and labels with what the label files say now (in the
    caller's transaction, so labels found unusable afterwards can be rolled back)."""
    now = datetime.now(UTC)
    bulk_upsert(
        conn,
        FIELDS,
        [
            {
                "project": project,
                "name": labels.name,
                "labels_hash": labels.content_hash(),
                "labels_file": source,
                "created_at": now,
                "updated_at": now,
            }
        ],
    )
    for table in (CLASSES, LABELS):
        conn.execute(delete(table).where(table.c.project == project, table.c.field == labels.name))
    bulk_insert(
        conn,
        CLASSES,
        [
            {"project": project, "field": labels.name, "name": c, "created_at": now}
            for c in labels.classes
        ],
    )
    bulk_insert(
        conn,
        LABELS,
        [
            {
                "project": project,
                "field": labels.name,
                "document_id": r.document_id,
                "label": r.label,
                "is_training_data": splits[r.document_id],
                "updated_at": now,
            }
            for r in labels.records
        ],
    )


def training_data(
    bind: Engine | Connection, storage: Path, project: str, field_name: str
) -> TrainingData:
    """Texts and labels of the field's documents, from the documents domain's text files."""
    query = (
        select(LABELS.c.document_id, LABELS.c.label, LABELS.c.is_training_data, DOCUMENTS.c.id)
        .outerjoin(
            DOCUMENTS,
            (DOCUMENTS.c.project == LABELS.c.project) & (DOCUMENTS.c.id == LABELS.c.document_id),
        )
        .where(LABELS.c.project == project, LABELS.c.field == field_name)
        .order_by(LABELS.c.document_id)
    )
    data = TrainingData()
    paths = ProjectPaths(storage, project)
    if isinstance(bind, Connection):
        rows = bind.execute(query).all()
    else:
        with bind.connect() as conn:
            rows = conn.execute(query).all()
    for doc_id, label, is_training, known in rows:
        if known is None:
            data.unknown_documents.append(doc_id)
            continue
        try:
            text = paths.text_file(doc_id).read_text(encoding="utf-8")
        except FileNotFoundError:
            data.without_text.append(doc_id)
            continue
        if is_training:
            data.train_texts.append(text)
            data.train_labels.append(label)
        else:
            data.test_ids.append(doc_id)
            data.test_texts.append(text)
            data.test_labels.append(label)
    return data


def start_model(
    engine: Engine, project: str, field_name: str, plugins: dict[str, Any], disk_version: int
) -> int:
    """A new ``TRAINING`` row; its version follows every version in the table or on disk.

    Training runs one at a time (the ``training`` queue's limit is 1), so a row still
    ``TRAINING`` now belongs to a run that died (killed, out of memory) before saving its
    model. It never produced an artifact (a version folder appears only complete), so it is
    dropped and its version number reused: the re-run ends where an undisturbed run would.
    """
    now = datetime.now(UTC)
    this_field = (MODELS.c.project == project) & (MODELS.c.field == field_name)
    with engine.begin() as conn:
        conn.execute(delete(MODELS).where(this_field, MODELS.c.status == TRAINING))
        stored = conn.scalar(
            select(func.max(MODELS.c.version)).where(
                MODELS.c.project == project, MODELS.c.field == field_name
            )
        )
        version = max(stored or 0, disk_version) + 1
        conn.execute(
            MODELS.insert().values(
                project=project,
                field=field_name,
                version=version,
                status=TRAINING,
                plugins=plugins,
                created_at=now,
            )
        )
    return version


def finish_model(
    engine: Engine, project: str, field_name: str, version: int, **values: Any
) -> None:
    if values.get("status") in (READY, FAILED):
        values.setdefault("finished_at", datetime.now(UTC))
    with engine.begin() as conn:
        conn.execute(
            update(MODELS)
            .where(
                MODELS.c.project == project,
                MODELS.c.field == field_name,
                MODELS.c.version == version,
            )
            .values(**values)
        )


def latest_model(
    engine: Engine, project: str, field_name: str, *, passed_only: bool = False
) -> dict[str, Any] | None:
    query = select(MODELS).where(
        MODELS.c.project == project, MODELS.c.field == field_name, MODELS.c.status == READY
    )
    if passed_only:
        query = query.where(MODELS.c.passed_evaluation.is_(True))
    with engine.connect() as conn:
        row = conn.execute(query.order_by(MODELS.c.version.desc()).limit(1)).first()
    return dict(row._mapping) if row else None


def documents_to_predict(engine: Engine, project: str, field_name: str, version: int) -> list[str]:
    """Extracted documents without a prediction from this model version."""
    done = select(PREDICTIONS.c.document_id).where(
        PREDICTIONS.c.project == project,
        PREDICTIONS.c.field == field_name,
        PREDICTIONS.c.model_version == version,
    )
    query = (
        select(DOCUMENTS.c.id)
        .where(
            DOCUMENTS.c.project == project,
            DOCUMENTS.c.status == "EXTRACTED",
            DOCUMENTS.c.id.not_in(done),
        )
        .order_by(DOCUMENTS.c.id)
    )
    with engine.connect() as conn:
        return list(conn.scalars(query))


def store_predictions(engine: Engine, rows: list[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        bulk_upsert(conn, PREDICTIONS, rows, preserve=())
