"""Persistence of use cases and model evaluations: states with history, QC issues, results.

Every state change goes through :func:`move_model` / :func:`move_use_case`, which lock the row,
check the move against the state machine and append the history row in the same transaction,
so the current state and its history can never disagree and an illegal move writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Connection, Engine, Select, delete, insert, select, update

from lexi_pipelines.db.models import (
    EvaluationIssue,
    EvaluationResultRow,
    ModelEvaluation,
    ModelStateHistory,
    UseCase,
    UseCaseStateHistory,
    table_of,
)
from lexi_pipelines.evaluation.states import (
    ModelEvaluationState,
    UseCaseState,
    transition,
    use_case_transition,
)

if TYPE_CHECKING:  # pandas-backed: not loaded with the code location's definitions
    from lexi_pipelines.evaluation.metrics import EvaluationResult, Metrics
    from lexi_pipelines.evaluation.quality import Issue

OVERALL = "*"
_ISSUE_BATCH = 5_000


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Trigger:
    """Who or what caused a state change; stored on every history row."""

    by: str
    run_id: str | None = None
    reason: str | None = None
    file: str | None = None
    issue_count: int | None = None

    def history_columns(self) -> dict[str, Any]:
        """The columns every history row (use case or model) takes from its trigger."""
        return {
            "triggered_by": self.by,
            "run_id": self.run_id,
            "reason": self.reason,
            "file": self.file,
        }


# --- use cases ---------------------------------------------------------------------------------


def ensure_use_case(conn: Connection, name: str) -> UseCaseState:
    row = conn.execute(
        select(UseCase.current_state).where(UseCase.name == name).with_for_update()
    ).scalar_one_or_none()
    if row is not None:
        return UseCaseState(row)
    at = now()
    state = UseCaseState.AWAITING_CONFIG
    conn.execute(
        insert(UseCase).values(name=name, current_state=state, created_at=at, updated_at=at)
    )
    conn.execute(
        insert(UseCaseStateHistory).values(
            use_case=name, from_state=None, to_state=state, triggered_by="registered", at=at
        )
    )
    return state


def move_use_case(
    conn: Connection, name: str, target: UseCaseState, trigger: Trigger, **values: Any
) -> UseCaseState:
    current = ensure_use_case(conn, name)
    use_case_transition(current, target)
    at = now()
    conn.execute(
        update(UseCase)
        .where(UseCase.name == name)
        .values(current_state=target, updated_at=at, **values)
    )
    conn.execute(
        insert(UseCaseStateHistory).values(
            use_case=name, from_state=current, to_state=target, at=at, **trigger.history_columns()
        )
    )
    return target


def record_config(
    engine: Engine,
    name: str,
    *,
    config_file: str | None,
    config_hash: str | None,
    error: str | None,
    trigger: Trigger,
) -> UseCaseState:
    """Validate-and-record a use case's config; a no-op when the same file was already seen.

    ``config_file`` None means the use case has no config (any more): back to AWAITING_CONFIG.
    """
    U = UseCaseState
    with engine.begin() as conn:
        current = ensure_use_case(conn, name)
        row = conn.execute(select(UseCase.config_hash).where(UseCase.name == name)).one()
        if current in (U.ARCHIVED, U.CANCELLED):
            return current
        if config_file is None:
            if current in (U.CONFIG_VALIDATED, U.CONFIG_INVALID):
                return move_use_case(
                    conn, name, U.AWAITING_CONFIG, trigger, config_file=None, config_hash=None
                )
            return current
        if row.config_hash == config_hash and current in (U.CONFIG_VALIDATED, U.CONFIG_INVALID):
            return current
        received = Trigger(trigger.by, trigger.run_id, "config uploaded", config_file)
        if current is not U.CONFIG_RECEIVED:
            move_use_case(conn, name, U.CONFIG_RECEIVED, received, config_file=config_file)
        move_use_case(conn, name, U.CONFIG_VALIDATION_RUNNING, received)
        outcome = Trigger(trigger.by, trigger.run_id, error or "config is valid", config_file)
        return move_use_case(
            conn,
            name,
            U.CONFIG_INVALID if error else U.CONFIG_VALIDATED,
            outcome,
            config_hash=config_hash,
            config_error=error,
        )


def archive_use_case(engine: Engine, name: str, trigger: Trigger) -> None:
    with engine.begin() as conn:
        current = ensure_use_case(conn, name)
        if current is not UseCaseState.ARCHIVED:
            move_use_case(conn, name, UseCaseState.ARCHIVED, trigger)


# --- models ------------------------------------------------------------------------------------


def ensure_model(
    conn: Connection, use_case: str, model: str, trigger: Trigger
) -> ModelEvaluationState:
    ensure_use_case(conn, use_case)
    state = conn.execute(
        select(ModelEvaluation.current_state).where(*_model_is(use_case, model)).with_for_update()
    ).scalar_one_or_none()
    if state is not None:
        return ModelEvaluationState(state)
    at = now()
    registered = ModelEvaluationState.REGISTERED
    conn.execute(
        insert(ModelEvaluation).values(
            use_case=use_case, model=model, current_state=registered, created_at=at, updated_at=at
        )
    )
    _history(conn, use_case, model, None, registered, trigger, at)
    return registered


def move_model(
    conn: Connection,
    use_case: str,
    model: str,
    target: ModelEvaluationState,
    trigger: Trigger,
    **values: Any,
) -> ModelEvaluationState:
    """Move one model to ``target``; raises IllegalTransition (writing nothing) if not allowed."""
    current = ensure_model(conn, use_case, model, trigger)
    transition(current, target)
    at = now()
    conn.execute(
        update(ModelEvaluation)
        .where(*_model_is(use_case, model))
        .values(current_state=target, updated_at=at, **values)
    )
    _history(conn, use_case, model, current, target, trigger, at)
    return target


def _history(
    conn: Connection,
    use_case: str,
    model: str,
    current: ModelEvaluationState | None,
    target: ModelEvaluationState,
    trigger: Trigger,
    at: datetime,
) -> None:
    conn.execute(
        insert(ModelStateHistory).values(
            use_case=use_case,
            model=model,
            from_state=current,
            to_state=target,
            issue_count=trigger.issue_count,
            **trigger.history_columns(),
            at=at,
        )
    )


def _rows(engine: Engine, query: Select[Any]) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def model_row(engine: Engine, use_case: str, model: str) -> dict[str, Any] | None:
    rows = _rows(engine, select(table_of(ModelEvaluation)).where(*_model_is(use_case, model)))
    return rows[0] if rows else None


def models_of(engine: Engine, use_case: str) -> list[dict[str, Any]]:
    query = select(table_of(ModelEvaluation)).where(ModelEvaluation.use_case == use_case)
    return _rows(engine, query.order_by(ModelEvaluation.model))


def use_case_row(engine: Engine, name: str) -> dict[str, Any] | None:
    rows = _rows(engine, select(table_of(UseCase)).where(UseCase.name == name))
    return rows[0] if rows else None


def model_history(engine: Engine, use_case: str, model: str) -> list[dict[str, Any]]:
    query = select(table_of(ModelStateHistory)).where(
        ModelStateHistory.use_case == use_case, ModelStateHistory.model == model
    )
    return _rows(engine, query.order_by(ModelStateHistory.id))


def use_case_history(engine: Engine, name: str) -> list[dict[str, Any]]:
    query = select(table_of(UseCaseStateHistory)).where(UseCaseStateHistory.use_case == name)
    return _rows(engine, query.order_by(UseCaseStateHistory.id))


def _model_is(use_case: str, model: str) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return ModelEvaluation.use_case == use_case, ModelEvaluation.model == model


# --- quality issues ----------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def replace_issues(
    conn: Connection, use_case: str, model: str, dataset_hash: str, issues: Sequence[Issue]
) -> None:
    """The model's issue list becomes exactly ``issues`` (those of its latest checked dataset)."""
    conn.execute(
        delete(EvaluationIssue).where(
            EvaluationIssue.use_case == use_case, EvaluationIssue.model == model
        )
    )
    rows = [
        {
            "use_case": use_case,
            "model": model,
            "seq": seq,
            "dataset_hash": dataset_hash,
            "check": issue.check,
            "severity": issue.severity,
            "field": issue.field,
            "row": issue.row,
            "rule": issue.rule,
            "value": _text(issue.value),
            "message": issue.message,
        }
        for seq, issue in enumerate(issues)
    ]
    for start in range(0, len(rows), _ISSUE_BATCH):
        conn.execute(insert(EvaluationIssue), rows[start : start + _ISSUE_BATCH])


def stored_issues(engine: Engine, use_case: str, model: str) -> list[dict[str, Any]]:
    query = (
        select(table_of(EvaluationIssue))
        .where(EvaluationIssue.use_case == use_case, EvaluationIssue.model == model)
        .order_by(EvaluationIssue.seq)
    )
    return _rows(engine, query)


# --- results -----------------------------------------------------------------------------------


def _metric_values(metrics: Metrics) -> dict[str, Any]:
    return {
        "rows": metrics.rows,
        "tp": metrics.tp,
        "fp": metrics.fp,
        "fn": metrics.fn,
        "tn": metrics.tn,
        **metrics.as_dict(),
    }


def metrics_summary(result: EvaluationResult) -> dict[str, Any]:
    """The JSON kept on the model row: overall and per-field figures."""
    return {
        "overall": _metric_values(result.overall),
        "per_field": {name: _metric_values(m) for name, m in result.per_field.items()},
    }


def replace_results(
    conn: Connection,
    use_case: str,
    model: str,
    dataset_hash: str,
    result: EvaluationResult,
    evaluated_at: datetime,
) -> None:
    """Results of one dataset version; re-evaluating the same version replaces, never appends."""
    conn.execute(
        delete(EvaluationResultRow).where(
            EvaluationResultRow.use_case == use_case,
            EvaluationResultRow.model == model,
            EvaluationResultRow.dataset_hash == dataset_hash,
        )
    )
    per_field = {OVERALL: result.overall, **result.per_field}
    conn.execute(
        insert(EvaluationResultRow),
        [
            {
                "use_case": use_case,
                "model": model,
                "dataset_hash": dataset_hash,
                "field": name,
                "evaluated_at": evaluated_at,
                **_metric_values(metrics),
            }
            for name, metrics in per_field.items()
        ],
    )


def leaderboard_rows(engine: Engine, use_case: str) -> list[dict[str, Any]]:
    """One row per model for the leaderboard workbook and table (latest results, if any)."""
    rows = []
    for model in models_of(engine, use_case):
        summary = model["metrics"] or {}
        overall = summary.get("overall") or {}
        rows.append(
            {
                "model": model["model"],
                "state": model["current_state"],
                "decision": model["decision"],
                "dataset_hash": model["evaluated_dataset_hash"],
                "evaluated_at": model["evaluated_at"],
                "rows": overall.get("rows"),
                "accuracy": overall.get("accuracy"),
                "precision": overall.get("precision"),
                "recall": overall.get("recall"),
                "f1": overall.get("f1"),
                "per_field": {
                    name: {k: values[k] for k in ("accuracy", "precision", "recall", "f1")}
                    for name, values in (summary.get("per_field") or {}).items()
                },
            }
        )
    return rows
