"""A nightly reconcile of every project: re-hashes all files to catch edits the sensor's
size-and-mtime check cannot see; cheap because unchanged content does no extraction."""

import dagster as dg

from lexi_pipelines.documents.jobs import documents_job
from lexi_pipelines.documents.partitions import PROJECTS

REGISTRY_OP = "documents__documents"


@dg.schedule(
    name="documents_reconcile_schedule",
    job=documents_job,
    cron_schedule="30 2 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Nightly full re-hash of every project's documents.",
)
def documents_reconcile_schedule(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
    tick = context.scheduled_execution_time.isoformat()
    return [
        dg.RunRequest(
            run_key=f"{project}:{tick}",
            partition_key=project,
            run_config={"ops": {REGISTRY_OP: {"config": {"rehash": True}}}},
            tags={"lexi/trigger": "reconcile"},
        )
        for project in context.instance.get_dynamic_partitions(PROJECTS)
    ]
