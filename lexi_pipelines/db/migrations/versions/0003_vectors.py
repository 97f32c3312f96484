"""Vector index bookkeeping: text and metadata hashes of every indexed item.

Revision ID: 0003_vectors
Revises: 0002_documents
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_vectors"
down_revision = "0002_documents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vector_items",
        sa.Column("index_name", sa.String(length=64), nullable=False),
        sa.Column("namespace", sa.String(length=128), nullable=False),
        sa.Column("item_id", sa.String(length=600), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("metadata_hash", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("index_name", "namespace", "item_id", name=op.f("pk_vector_items")),
    )


def downgrade() -> None:
    op.drop_table("vector_items")
