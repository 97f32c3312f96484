"""Operations schema: failed runs recorded by the run-failure sensor.

Revision ID: 0006_operations
Revises: 0005_evaluation
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_operations"
down_revision = "0005_evaluation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "run_failures",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("job_name", sa.String(length=256), nullable=False),
        sa.Column("partition_key", sa.String(length=512), nullable=True),
        sa.Column("queue", sa.String(length=64), nullable=True),
        sa.Column("failed_steps", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("worker_lost", sa.Boolean(), nullable=False),
        sa.Column("retry_of", sa.String(length=64), nullable=True),
        sa.Column("notified", sa.String(length=2048), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_run_failures")),
    )
    op.create_index(op.f("ix_run_failures_job_name"), "run_failures", ["job_name"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_run_failures_job_name"), table_name="run_failures")
    op.drop_table("run_failures")
