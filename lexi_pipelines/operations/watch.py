"""Showing runs in a terminal: one-line summaries, progress lines, following a run to its end.

Pure module: works on ``client.RunInfo`` / ``RunEvent`` and an ``echo`` callable.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from lexi_pipelines.common.queues import QUEUE_TAG
from lexi_pipelines.operations.client import DagsterClient, RunEvent, RunInfo
from lexi_pipelines.operations.submit import PARTITION_TAG, PRIORITY_TAG

_RUN_EVENTS = {
    "PIPELINE_ENQUEUED": "queued",
    "PIPELINE_DEQUEUED": "dequeued",
    "PIPELINE_STARTING": "starting",
    "PIPELINE_START": "started",
    "PIPELINE_SUCCESS": "succeeded",
    "PIPELINE_FAILURE": "failed",
    "PIPELINE_CANCELING": "canceling",
    "PIPELINE_CANCELED": "canceled",
    "RUN_ENQUEUED": "queued",
    "RUN_DEQUEUED": "dequeued",
    "RUN_STARTING": "starting",
    "RUN_START": "started",
    "RUN_SUCCESS": "succeeded",
    "RUN_FAILURE": "failed",
    "RUN_CANCELING": "canceling",
    "RUN_CANCELED": "canceled",
}
_STEP_EVENTS = {
    "STEP_START": "started",
    "STEP_SUCCESS": "succeeded",
    "STEP_FAILURE": "failed",
    "STEP_UP_FOR_RETRY": "failed, retrying",
    "STEP_RESTARTED": "restarted",
    "STEP_SKIPPED": "skipped",
}
_LOUD_LEVELS = {"WARNING", "ERROR", "CRITICAL"}
_VALUE_WIDTH = 80


def exit_code(status: str) -> int:
    """0 for a successful (or still running) run, 1 for a failed or canceled one."""
    return 1 if status in ("FAILURE", "CANCELED", "CANCELING") else 0


def _clock(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).strftime("%H:%M:%S") if ts else "--:--:--"


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else "-"


def duration(run: RunInfo, now: float | None = None) -> str:
    if run.started is None:
        return "-"
    end = run.ended or (now if now is not None else time.time())
    return f"{end - run.started:.1f}s"


def target(run: RunInfo) -> str:
    return run.tags.get(PARTITION_TAG) or run.tags.get("lexi/field") or "-"


def run_header(run: RunInfo) -> str:
    parts = [
        f"run {run.run_id}",
        run.job_name,
        run.status,
        f"lane={run.tags.get(QUEUE_TAG, '-')}",
        f"priority={run.tags.get(PRIORITY_TAG, '0')}",
        f"target={target(run)}",
        f"created {_when(run.created)}",
    ]
    if run.started is not None:
        parts.append(f"{'took' if run.is_done else 'running'} {duration(run)}")
    return "  ".join(parts)


LIST_HEADER = (
    f"{'RUN ID':<36}  {'JOB':<30}  {'STATUS':<9}  {'LANE':<10}  {'PRI':>4}  "
    f"{'TARGET':<24}  {'CREATED':<19}  DURATION"
)


def run_row(run: RunInfo) -> str:
    return (
        f"{run.run_id:<36}  {run.job_name:<30}  {run.status:<9}  "
        f"{run.tags.get(QUEUE_TAG, '-'):<10}  {run.tags.get(PRIORITY_TAG, '0'):>4}  "
        f"{target(run):<24}  {_when(run.created):<19}  {duration(run)}"
    )


def _metadata(values: dict[str, str]) -> str:
    shown = []
    for key, value in values.items():
        flat = " ".join(value.split())
        if len(flat) > _VALUE_WIDTH:
            flat = flat[: _VALUE_WIDTH - 1] + "…"
        shown.append(f"{key}={flat}")
    return ", ".join(shown)


class EventLines:
    """Progress lines for the events a person follows; None for engine chatter.

    An asset step reports the same metadata twice (its output, then its materialization):
    the materialization line only adds what the output line did not show.
    """

    def __init__(self) -> None:
        self._shown: dict[str, dict[str, str]] = {}

    def __call__(self, event: RunEvent) -> str | None:
        kind = event.event_type
        where = event.step_key or "run"
        if kind in _RUN_EVENTS:
            what = _RUN_EVENTS[kind]
            if kind.endswith("FAILURE"):
                what += f": {event.error or event.message}"
        elif kind in _STEP_EVENTS:
            what = _STEP_EVENTS[kind]
            if event.error:
                what += f": {event.error.splitlines()[0]}"
        elif kind == "LOG_MESSAGE":
            if event.level == "DEBUG":
                return None
            prefix = f"{event.level}: " if event.level in _LOUD_LEVELS else ""
            what = prefix + event.message
        elif kind == "STEP_OUTPUT" and event.metadata:
            self._shown[where] = dict(event.metadata)
            what = f"output: {_metadata(event.metadata)}"
        elif kind == "ASSET_MATERIALIZATION":
            shown = self._shown.pop(where, {})
            new = {k: v for k, v in event.metadata.items() if shown.get(k) != v}
            what = f"materialized {event.asset or ''}".rstrip()
            if new:
                what += f": {_metadata(new)}"
        elif kind == "ASSET_CHECK_EVALUATION" and event.check:
            name, passed = event.check
            what = f"check {name} {'passed' if passed else 'FAILED'}"
            if event.metadata:
                what += f": {_metadata(event.metadata)}"
        elif event.level in _LOUD_LEVELS:
            what = f"{event.level}: {event.message}"
        else:
            return None
        return f"{_clock(event.timestamp)}  {where:<32}  {what}"


def show_run(
    client: DagsterClient,
    run_id: str,
    echo: Callable[[str], None],
    *,
    follow: bool = False,
    interval: float = 1.0,
    last_lines: int = 20,
) -> RunInfo:
    """Print the run's header and progress lines; with ``follow``, keep printing new lines
    until the run has ended. Returns the run as last seen."""
    run = client.run(run_id)
    echo(run_header(run))
    cursor: str | None = None
    backlog: list[str] = []
    event_line = EventLines()
    while True:
        # The status is read before the events: once it is final, every event is stored,
        # so draining the events after it loses nothing.
        while True:
            events, cursor, more = client.events(run_id, cursor)
            for event in events:
                line = event_line(event)
                if line is None:
                    continue
                if follow:
                    echo(line)
                else:
                    backlog.append(line)
            if not more:
                break
        if not follow:
            # Not backlog[-last_lines:]: with 0 lines asked that slice is the whole backlog.
            hidden = max(len(backlog) - last_lines, 0)
            if hidden:
                echo(f"... {hidden} earlier lines (use --follow for all)")
            for line in backlog[hidden:]:
                echo(line)
            return run
        if run.is_done:
            echo(f"run {run.run_id} {run.status} after {duration(run)}")
            return run
        time.sleep(interval)
        run = client.run(run_id)
