"""Failed runs kept in ``run_failures`` and the email about them (pure: no Dagster import)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update

from lexi_pipelines.common.notifications import Notification
from lexi_pipelines.db.models import RunFailure, table_of

# A run stopped by a blocking asset check did what it should: its domain sends its own email.
CHECK_BLOCKED_ERROR = "DagsterAssetCheckFailedError"


@dataclass(frozen=True)
class FailedRun:
    run_id: str
    job_name: str
    partition_key: str | None
    queue: str | None
    failed_steps: list[str]
    error_classes: list[str]
    error: str
    retry_of: str | None
    # The job emails its own failures (its domain's message says more than "run failed").
    self_reporting: bool = False

    @property
    def worker_lost(self) -> bool:
        """No step failed: the run worker died or never started (run monitoring caught it)."""
        return not self.failed_steps

    @property
    def blocked_by_check(self) -> bool:
        return bool(self.error_classes) and all(
            c == CHECK_BLOCKED_ERROR for c in self.error_classes
        )


def record(engine: Engine, run: FailedRun) -> bool:
    """Store the failure once; False when this run was already recorded (a repeated tick)."""
    with engine.begin() as conn:
        known = conn.execute(
            select(RunFailure.run_id).where(RunFailure.run_id == run.run_id)
        ).scalar_one_or_none()
        if known is not None:
            return False
        conn.execute(
            insert(RunFailure).values(
                run_id=run.run_id,
                job_name=run.job_name,
                partition_key=run.partition_key,
                queue=run.queue,
                failed_steps=run.failed_steps,
                error=run.error,
                worker_lost=run.worker_lost,
                retry_of=run.retry_of,
                failed_at=datetime.now(UTC),
            )
        )
    return True


def mark_notified(engine: Engine, run_id: str, where: str) -> None:
    with engine.begin() as conn:
        conn.execute(update(RunFailure).where(RunFailure.run_id == run_id).values(notified=where))


def recent(engine: Engine, limit: int = 50) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(table_of(RunFailure)).order_by(RunFailure.failed_at.desc()).limit(limit)
        )
        return [dict(r._mapping) for r in rows]


def notice(run: FailedRun, ui_url: str) -> Notification:
    target = f"{run.job_name} ({run.partition_key})" if run.partition_key else run.job_name
    cause = (
        "The run worker died or never started (no step failed); Dagster's run retries "
        "re-launch such runs."
        if run.worker_lost
        else f"Failed steps: {', '.join(run.failed_steps)}"
    )
    body = "\n".join(
        [
            f"Run {run.run_id} of {target} failed.",
            cause,
            f"Queue: {run.queue or '-'}"
            + (f"; a retry of run {run.retry_of}" if run.retry_of else ""),
            "",
            run.error,
            "",
            f"Details: {ui_url.rstrip('/')}/runs/{run.run_id}",
        ]
    )
    return Notification(subject=f"[lexi] run failed: {target}", body=body, kind="run.failed")
