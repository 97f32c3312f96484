"""Run-failure sensor: every failed run of the code location is recorded and emailed."""

import os

import dagster as dg

from lexi_pipelines.common.notifier import NotifierResource
from lexi_pipelines.common.queues import QUEUE_TAG, SELF_REPORTING_TAG
from lexi_pipelines.common.resources import DatabaseResource
from lexi_pipelines.operations.run_failures import FailedRun, mark_notified, notice, record

DEFAULT_UI_URL = "http://127.0.0.1:3000"


def failed_run(context: dg.RunFailureSensorContext) -> FailedRun:
    run = context.dagster_run
    step_failures = context.get_step_failure_events()
    classes = [
        e.step_failure_data.error.cls_name or "Exception"
        for e in step_failures
        if e.step_failure_data.error is not None
    ]
    return FailedRun(
        run_id=run.run_id,
        job_name=run.job_name,
        partition_key=run.tags.get("dagster/partition"),
        queue=run.tags.get(QUEUE_TAG),
        failed_steps=sorted({e.step_key for e in step_failures if e.step_key}),
        error_classes=classes,
        error=context.failure_event.message or "the run failed",
        retry_of=run.tags.get("dagster/parent_run_id"),
        self_reporting=run.tags.get(SELF_REPORTING_TAG) == "true",
    )


@dg.run_failure_sensor(
    name="run_failure_sensor",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records every failed run of this code location in `run_failures` (job, "
    "partition, queue, failed steps, error, whether the worker died) and emails it through the "
    "notifier; runs stopped by a blocking asset check, and runs of jobs tagged "
    "lexi/reports-own-failures (evaluation), are recorded but not emailed: their domain sends "
    "its own message.",
)
def run_failure_sensor(
    context: dg.RunFailureSensorContext, database: DatabaseResource, notifier: NotifierResource
) -> None:
    run = failed_run(context)
    if not record(database.engine, run):
        return
    if run.blocked_by_check or run.self_reporting:
        context.log.info("%s: its domain reports this failure; recorded only", run.run_id)
        return
    ui_url = os.environ.get("LEXI_DAGSTER_URL") or DEFAULT_UI_URL
    where = notifier.send(notice(run, ui_url))
    mark_notified(database.engine, run.run_id, where)
    context.log.info("%s: failure of %s recorded; notified %s", run.run_id, run.job_name, where)
