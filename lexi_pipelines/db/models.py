"""Typed SQLAlchemy 2 models of the metadata schema.

Natural keys from the data (URNs and JSON-LD ``@id`` values) are primary keys so that every
write can be an upsert. The Alembic migrations in ``migrations/versions`` create exactly these
tables; ``lexi_pipelines_tests/db`` checks that the two agree.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

URN = String(512)
HASH = String(64)
TIMESTAMP = DateTime(timezone=True)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, datetime: TIMESTAMP}


class Organization(Base):
    __tablename__ = "organizations"

    urn: Mapped[str] = mapped_column(URN, primary_key=True)
    ingestor: Mapped[str] = mapped_column(String(128), index=True)
    name: Mapped[str] = mapped_column(String(512))
    description: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(2048))
    logo: Mapped[str | None] = mapped_column(String(2048))
    same_as: Mapped[list[Any]] = mapped_column(JSON)
    feed_url: Mapped[str | None] = mapped_column(String(2048))
    # True when a feed named the organization but no registry listed it.
    seen_only_in_feed: Mapped[bool] = mapped_column(Boolean, default=False)
    content_hash: Mapped[str] = mapped_column(HASH)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Brand(Base):
    __tablename__ = "brands"

    urn: Mapped[str] = mapped_column(URN, primary_key=True)
    organization_urn: Mapped[str] = mapped_column(
        ForeignKey("organizations.urn", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(512))
    # Lower-cased, whitespace-collapsed name: feeds often name a brand without its URN.
    name_key: Mapped[str] = mapped_column(String(512))
    logo: Mapped[str | None] = mapped_column(String(2048))
    seen_only_in_feed: Mapped[bool] = mapped_column(Boolean, default=False)
    content_hash: Mapped[str] = mapped_column(HASH)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (Index("ix_brands_organization_urn_name_key", "organization_urn", "name_key"),)


class Category(Base):
    __tablename__ = "categories"

    # Slug path such as ``electronics/audio/headphones``; registry slugs are single segments.
    id: Mapped[str] = mapped_column(String(1024), primary_key=True)
    name: Mapped[str] = mapped_column(String(512))
    path: Mapped[str] = mapped_column(String(2048))
    parent_id: Mapped[str | None] = mapped_column(String(1024), index=True)
    created_at: Mapped[datetime]


class OrganizationCategory(Base):
    __tablename__ = "organization_categories"

    organization_urn: Mapped[str] = mapped_column(
        ForeignKey("organizations.urn", ondelete="CASCADE"), primary_key=True
    )
    category_id: Mapped[str] = mapped_column(
        ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True, index=True
    )


# Products, groups and offers are bulk-loaded, 100k rows at a time. They carry no foreign-key
# constraints: the per-row trigger checks tripled the insert time (measured: 0.24 s -> 0.86 s
# per 30k rows). Ingestion writes parents first in the same transaction, and the
# `catalog_references_resolve` asset check verifies the references after every run.


class ProductGroup(Base):
    __tablename__ = "product_groups"

    urn: Mapped[str] = mapped_column(URN, primary_key=True)
    ingestor: Mapped[str] = mapped_column(String(128), index=True)
    organization_urn: Mapped[str] = mapped_column(URN)
    brand_urn: Mapped[str | None] = mapped_column(URN)
    category_id: Mapped[str | None] = mapped_column(String(1024))
    group_code: Mapped[str | None] = mapped_column(String(512))
    name: Mapped[str] = mapped_column(String(1024))
    description: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(2048))
    varies_by: Mapped[list[Any]] = mapped_column(JSON)
    media: Mapped[list[Any]] = mapped_column(JSON)
    shard_url: Mapped[str] = mapped_column(String(2048))
    content_hash: Mapped[str] = mapped_column(HASH)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]


class Product(Base):
    __tablename__ = "products"

    urn: Mapped[str] = mapped_column(URN, primary_key=True)
    ingestor: Mapped[str] = mapped_column(String(128), index=True)
    organization_urn: Mapped[str] = mapped_column(URN)
    brand_urn: Mapped[str | None] = mapped_column(URN)
    category_id: Mapped[str | None] = mapped_column(String(1024))
    product_group_urn: Mapped[str | None] = mapped_column(URN, index=True)
    # The raw ``isVariantOf.@id``, kept even when it names no known group.
    variant_of: Mapped[str | None] = mapped_column(URN)
    sku: Mapped[str | None] = mapped_column(String(512), index=True)
    name: Mapped[str] = mapped_column(String(1024))
    description: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(2048))
    image: Mapped[str | None] = mapped_column(String(2048))
    additional_properties: Mapped[list[Any]] = mapped_column(JSON)
    media: Mapped[list[Any]] = mapped_column(JSON)
    shard_url: Mapped[str] = mapped_column(String(2048))
    content_hash: Mapped[str] = mapped_column(HASH)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]


class Offer(Base):
    __tablename__ = "offers"

    # (product, position in its ``offers`` list): the primary key also serves lookups and
    # deletes by product, so the table needs no second index.
    product_urn: Mapped[str] = mapped_column(URN, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    price: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    price_currency: Mapped[str | None] = mapped_column(String(8))
    availability: Mapped[str | None] = mapped_column(String(256))
    inventory_level: Mapped[int | None] = mapped_column(Integer)
    price_valid_until: Mapped[datetime | None]
    price_specification: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class FeedShard(Base):
    """Bookkeeping for change detection: the content hash of each shard last ingested."""

    __tablename__ = "feed_shards"

    ingestor: Mapped[str] = mapped_column(String(128), primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    organization_urn: Mapped[str] = mapped_column(URN)
    content_hash: Mapped[str] = mapped_column(HASH)
    # Hash of the organization's registry entry when the shard was ingested: brand resolution
    # depends on it, so a registry change makes an unchanged shard worth re-reading.
    registry_hash: Mapped[str] = mapped_column(HASH)
    item_count: Mapped[int] = mapped_column(Integer)
    ingested_at: Mapped[datetime]


class Document(Base):
    """A file in ``{storage}/{project}/documents/`` and where its extraction stands."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("project", "relative_path"),)

    project: Mapped[str] = mapped_column(String(128), primary_key=True)
    # The file stem unless another file of the project has it (LexiClass's ``{doc-id}.txt``).
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    relative_path: Mapped[str] = mapped_column(String(1024))
    sha256: Mapped[str] = mapped_column(HASH)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    # With the size, lets an unchanged file skip re-hashing (as git's index does).
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(128))
    # PENDING (new or changed), EXTRACTED, NEEDS_OCR or FAILED.
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    page_count: Mapped[int | None] = mapped_column(Integer)
    char_count: Mapped[int | None] = mapped_column(Integer)
    text_sha256: Mapped[str | None] = mapped_column(HASH)
    # Which tokenizer and chunk parameters the stored chunks came from; NULL: not chunked.
    chunking_key: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    extracted_at: Mapped[datetime | None]


class Chunk(Base):
    __tablename__ = "chunks"
    __table_args__ = (
        Index("ix_chunks_project_document_id_ordinal", "project", "document_id", "ordinal"),
    )

    # sha256 of (project, document id, ordinal, text hash): stable while the text is.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    project: Mapped[str] = mapped_column(String(128))
    document_id: Mapped[str] = mapped_column(String(128))
    ordinal: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    char_start: Mapped[int] = mapped_column(Integer)
    char_end: Mapped[int] = mapped_column(Integer)
    # Word pieces of the embedding model's tokenizer, without its special tokens.
    token_count: Mapped[int] = mapped_column(Integer)


class VectorItem(Base):
    """What a vector index holds for each item, so re-runs embed only what changed."""

    __tablename__ = "vector_items"

    index_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    namespace: Mapped[str] = mapped_column(String(128), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(600), primary_key=True)
    # sha256 of the embedded text with the model's name: a new model re-embeds everything.
    text_hash: Mapped[str] = mapped_column(HASH)
    metadata_hash: Mapped[str] = mapped_column(HASH)
    updated_at: Mapped[datetime]


class Field(Base):
    """A classification dimension of a project (LexiClass's field), e.g. ``practice_area``."""

    __tablename__ = "fields"

    project: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    # Hash of the labels file content the field was last loaded from.
    labels_hash: Mapped[str] = mapped_column(HASH)
    labels_file: Mapped[str] = mapped_column(String(1024))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class FieldClass(Base):
    __tablename__ = "field_classes"

    project: Mapped[str] = mapped_column(String(128), primary_key=True)
    field: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(256), primary_key=True)
    created_at: Mapped[datetime]


class DocumentLabel(Base):
    """Which class a document has for a field, and whether it trains or tests the model."""

    __tablename__ = "document_labels"

    project: Mapped[str] = mapped_column(String(128), primary_key=True)
    field: Mapped[str] = mapped_column(String(128), primary_key=True)
    document_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    label: Mapped[str] = mapped_column(String(256))
    is_training_data: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime]


class ClassifierModel(Base):
    """One trained version of a field's classifier (its files: models/{field}/v{version}/)."""

    __tablename__ = "models"

    project: Mapped[str] = mapped_column(String(128), primary_key=True)
    field: Mapped[str] = mapped_column(String(128), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    # TRAINING, READY or FAILED.
    status: Mapped[str] = mapped_column(String(16))
    plugins: Mapped[dict[str, Any]] = mapped_column(JSON)
    path: Mapped[str | None] = mapped_column(String(2048))
    training_data_hash: Mapped[str | None] = mapped_column(HASH)
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Set by the evaluation gate: only a model that passed it predicts.
    passed_evaluation: Mapped[bool | None] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class Prediction(Base):
    """The latest prediction per document and field; the history is in predictions_v{N}.jsonl."""

    __tablename__ = "predictions"

    project: Mapped[str] = mapped_column(String(128), primary_key=True)
    field: Mapped[str] = mapped_column(String(128), primary_key=True)
    document_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    class_name: Mapped[str] = mapped_column(String(256))
    confidence: Mapped[float] = mapped_column(Float)
    model_version: Mapped[int] = mapped_column(Integer)
    predicted_at: Mapped[datetime]


def _of_model_evaluation() -> ForeignKeyConstraint:
    """The rows of a model evaluation go with it (history, issues, results)."""
    return ForeignKeyConstraint(
        ["use_case", "model"],
        ["model_evaluations.use_case", "model_evaluations.model"],
        ondelete="CASCADE",
    )


class UseCase(Base):
    """An evaluation use case: a folder under {storage}/evaluations with its config."""

    __tablename__ = "use_cases"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    current_state: Mapped[str] = mapped_column(String(32))
    config_file: Mapped[str | None] = mapped_column(String(1024))
    config_hash: Mapped[str | None] = mapped_column(HASH)
    config_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class UseCaseStateHistory(Base):
    __tablename__ = "use_case_state_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    use_case: Mapped[str] = mapped_column(
        String(128), ForeignKey("use_cases.name", ondelete="CASCADE"), index=True
    )
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    triggered_by: Mapped[str] = mapped_column(String(256))
    run_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    file: Mapped[str | None] = mapped_column(String(1024))
    at: Mapped[datetime]


class ModelEvaluation(Base):
    """One external model evaluated in a use case, with its current state and latest result."""

    __tablename__ = "model_evaluations"

    use_case: Mapped[str] = mapped_column(
        String(128), ForeignKey("use_cases.name", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(128), primary_key=True)
    current_state: Mapped[str] = mapped_column(String(32))
    dataset_file: Mapped[str | None] = mapped_column(String(1024))
    dataset_hash: Mapped[str | None] = mapped_column(HASH)
    # The config the last quality check ran under: a config change re-checks every model.
    config_hash: Mapped[str | None] = mapped_column(HASH)
    issue_counts: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Set when QC passed: evaluation only scores exactly the dataset that passed.
    passed_dataset_hash: Mapped[str | None] = mapped_column(HASH)
    evaluated_dataset_hash: Mapped[str | None] = mapped_column(HASH)
    decision: Mapped[str | None] = mapped_column(String(16))
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    results_file: Mapped[str | None] = mapped_column(String(1024))
    evaluated_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ModelStateHistory(Base):
    __tablename__ = "model_state_history"
    __table_args__ = (
        _of_model_evaluation(),
        Index(None, "use_case", "model"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    use_case: Mapped[str] = mapped_column(String(128))
    model: Mapped[str] = mapped_column(String(128))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    triggered_by: Mapped[str] = mapped_column(String(256))
    run_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    file: Mapped[str | None] = mapped_column(String(1024))
    issue_count: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime]


class EvaluationIssue(Base):
    """Every quality-check issue of a model's latest checked dataset."""

    __tablename__ = "evaluation_issues"
    __table_args__ = (_of_model_evaluation(),)

    use_case: Mapped[str] = mapped_column(String(128), primary_key=True)
    model: Mapped[str] = mapped_column(String(128), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_hash: Mapped[str] = mapped_column(HASH)
    check: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    field: Mapped[str | None] = mapped_column(String(128))
    row: Mapped[int | None] = mapped_column(Integer)
    rule: Mapped[str] = mapped_column(String(64))
    value: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)


class EvaluationResultRow(Base):
    """Metrics per field (and ``*`` for overall) of every evaluated dataset version."""

    __tablename__ = "evaluation_results"
    __table_args__ = (_of_model_evaluation(),)

    use_case: Mapped[str] = mapped_column(String(128), primary_key=True)
    model: Mapped[str] = mapped_column(String(128), primary_key=True)
    dataset_hash: Mapped[str] = mapped_column(HASH, primary_key=True)
    field: Mapped[str] = mapped_column(String(128), primary_key=True)
    rows: Mapped[int] = mapped_column(Integer)
    tp: Mapped[int] = mapped_column(Integer)
    fp: Mapped[int] = mapped_column(Integer)
    fn: Mapped[int] = mapped_column(Integer)
    tn: Mapped[int] = mapped_column(Integer)
    accuracy: Mapped[float] = mapped_column(Float)
    precision: Mapped[float] = mapped_column(Float)
    recall: Mapped[float] = mapped_column(Float)
    f1: Mapped[float] = mapped_column(Float)
    evaluated_at: Mapped[datetime]


class RunFailure(Base):
    """A failed Dagster run of this code location, recorded by the run-failure sensor."""

    __tablename__ = "run_failures"

    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    job_name: Mapped[str] = mapped_column(String(256), index=True)
    partition_key: Mapped[str | None] = mapped_column(String(512))
    queue: Mapped[str | None] = mapped_column(String(64))
    failed_steps: Mapped[list[Any]] = mapped_column(JSON)
    error: Mapped[str] = mapped_column(Text)
    # Set when the run failed because its worker died (run monitoring) rather than a step.
    worker_lost: Mapped[bool] = mapped_column(Boolean)
    retry_of: Mapped[str | None] = mapped_column(String(64))
    notified: Mapped[str | None] = mapped_column(String(2048))
    failed_at: Mapped[datetime]


def table_of(model: type[Base]) -> Table:
    """The model's ``Table`` (typed: ``__table__`` is declared as a generic ``FromClause``)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table
