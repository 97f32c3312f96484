"""Evaluation schema: use cases, model evaluations, their state history, QC issues, results.

Revision ID: 0005_evaluation
Revises: 0004_classification
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_evaluation"
down_revision = "0004_classification"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "use_cases",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("current_state", sa.String(length=32), nullable=False),
        sa.Column("config_file", sa.String(length=1024), nullable=True),
        sa.Column("config_hash", sa.String(length=64), nullable=True),
        sa.Column("config_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_use_cases")),
    )
    op.create_table(
        "model_evaluations",
        sa.Column("use_case", sa.String(length=128), nullable=False),
        sa.Column("model", sa.String(length=128), nullable=False),
        sa.Column("current_state", sa.String(length=32), nullable=False),
        sa.Column("dataset_file", sa.String(length=1024), nullable=True),
        sa.Column("dataset_hash", sa.String(length=64), nullable=True),
        sa.Column("config_hash", sa.String(length=64), nullable=True),
        sa.Column("issue_counts", sa.JSON(), nullable=True),
        sa.Column("passed_dataset_hash", sa.String(length=64), nullable=True),
        sa.Column("evaluated_dataset_hash", sa.String(length=64), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=True),
        sa.Column("results_file", sa.String(length=1024), nullable=True),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["use_case"],
            ["use_cases.name"],
            name=op.f("fk_model_evaluations_use_case_use_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("use_case", "model", name=op.f("pk_model_evaluations")),
    )
    op.create_table(
        "use_case_state_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("use_case", sa.String(length=128), nullable=False),
        sa.Column("from_state", sa.String(length=32), nullable=True),
        sa.Column("to_state", sa.String(length=32), nullable=False),
        sa.Column("triggered_by", sa.String(length=256), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("file", sa.String(length=1024), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["use_case"],
            ["use_cases.name"],
            name=op.f("fk_use_case_state_history_use_case_use_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_use_case_state_history")),
    )
    op.create_index(
        op.f("ix_use_case_state_history_use_case"),
        "use_case_state_history",
        ["use_case"],
        unique=False,
    )
    op.create_table(
        "evaluation_issues",
        sa.Column("use_case", sa.String(length=128), nullable=False),
        sa.Column("model", sa.String(length=128), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("dataset_hash", sa.String(length=64), nullable=False),
        sa.Column("check", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("field", sa.String(length=128), nullable=True),
        sa.Column("row", sa.Integer(), nullable=True),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["use_case", "model"],
            ["model_evaluations.use_case", "model_evaluations.model"],
            name=op.f("fk_evaluation_issues_use_case_model_evaluations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("use_case", "model", "seq", name=op.f("pk_evaluation_issues")),
    )
    op.create_table(
        "evaluation_results",
        sa.Column("use_case", sa.String(length=128), nullable=False),
        sa.Column("model", sa.String(length=128), nullable=False),
        sa.Column("dataset_hash", sa.String(length=64), nullable=False),
        sa.Column("field", sa.String(length=128), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("tp", sa.Integer(), nullable=False),
        sa.Column("fp", sa.Integer(), nullable=False),
        sa.Column("fn", sa.Integer(), nullable=False),
        sa.Column("tn", sa.Integer(), nullable=False),
        sa.Column("accuracy", sa.Float(), nullable=False),
        sa.Column("precision", sa.Float(), nullable=False),
        sa.Column("recall", sa.Float(), nullable=False),
        sa.Column("f1", sa.Float(), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["use_case", "model"],
            ["model_evaluations.use_case", "model_evaluations.model"],
            name=op.f("fk_evaluation_results_use_case_model_evaluations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "use_case", "model", "dataset_hash", "field", name=op.f("pk_evaluation_results")
        ),
    )
    op.create_table(
        "model_state_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("use_case", sa.String(length=128), nullable=False),
        sa.Column("model", sa.String(length=128), nullable=False),
        sa.Column("from_state", sa.String(length=32), nullable=True),
        sa.Column("to_state", sa.String(length=32), nullable=False),
        sa.Column("triggered_by", sa.String(length=256), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("file", sa.String(length=1024), nullable=True),
        sa.Column("issue_count", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["use_case", "model"],
            ["model_evaluations.use_case", "model_evaluations.model"],
            name=op.f("fk_model_state_history_use_case_model_evaluations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_state_history")),
    )
    op.create_index(
        op.f("ix_model_state_history_use_case_model"),
        "model_state_history",
        ["use_case", "model"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_model_state_history_use_case_model"), table_name="model_state_history")
    op.drop_table("model_state_history")
    op.drop_table("evaluation_results")
    op.drop_table("evaluation_issues")
    op.drop_index(op.f("ix_use_case_state_history_use_case"), table_name="use_case_state_history")
    op.drop_table("use_case_state_history")
    op.drop_table("model_evaluations")
    op.drop_table("use_cases")
