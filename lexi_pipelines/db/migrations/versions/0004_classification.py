"""Classification schema: fields, their classes, document labels, model versions, predictions.

Revision ID: 0004_classification
Revises: 0003_vectors
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_classification"
down_revision = "0003_vectors"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document_labels",
        sa.Column("project", sa.String(length=128), nullable=False),
        sa.Column("field", sa.String(length=128), nullable=False),
        sa.Column("document_id", sa.String(length=128), nullable=False),
        sa.Column("label", sa.String(length=256), nullable=False),
        sa.Column("is_training_data", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("project", "field", "document_id", name=op.f("pk_document_labels")),
    )
    op.create_table(
        "field_classes",
        sa.Column("project", sa.String(length=128), nullable=False),
        sa.Column("field", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("project", "field", "name", name=op.f("pk_field_classes")),
    )
    op.create_table(
        "fields",
        sa.Column("project", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("labels_hash", sa.String(length=64), nullable=False),
        sa.Column("labels_file", sa.String(length=1024), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("project", "name", name=op.f("pk_fields")),
    )
    op.create_table(
        "models",
        sa.Column("project", sa.String(length=128), nullable=False),
        sa.Column("field", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("plugins", sa.JSON(), nullable=False),
        sa.Column("path", sa.String(length=2048), nullable=True),
        sa.Column("training_data_hash", sa.String(length=64), nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=True),
        sa.Column("passed_evaluation", sa.Boolean(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("project", "field", "version", name=op.f("pk_models")),
    )
    op.create_table(
        "predictions",
        sa.Column("project", sa.String(length=128), nullable=False),
        sa.Column("field", sa.String(length=128), nullable=False),
        sa.Column("document_id", sa.String(length=128), nullable=False),
        sa.Column("class_name", sa.String(length=256), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("predicted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("project", "field", "document_id", name=op.f("pk_predictions")),
    )


def downgrade() -> None:
    op.drop_table("predictions")
    op.drop_table("models")
    op.drop_table("fields")
    op.drop_table("field_classes")
    op.drop_table("document_labels")
