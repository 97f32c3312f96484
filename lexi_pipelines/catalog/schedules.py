"""One cron schedule per ingestor (its ``schedule`` field) and the daily cleanup."""

import os

import dagster as dg

from lexi_pipelines.catalog.config import IngestorConfig
from lexi_pipelines.catalog.jobs import (
    DEFAULT_RETENTION_DAYS,
    CleanupConfig,
    catalog_cleanup_job,
    catalog_ingest_job,
)
from lexi_pipelines.catalog.partitions import ingestion_config


def ingestor_schedule(ingestor: IngestorConfig) -> dg.ScheduleDefinition:
    @dg.schedule(
        name=f"catalog_{ingestor.slug}_schedule",
        cron_schedule=ingestor.schedule,
        job=catalog_ingest_job,
        execution_timezone="UTC",
        description=f"Ingest '{ingestor.name}' on its cron ({ingestor.schedule}).",
    )
    def _schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        tick = context.scheduled_execution_time
        return dg.RunRequest(
            run_key=f"{ingestor.name}:{tick.isoformat() if tick else 'manual'}",
            partition_key=ingestor.name,
            tags={"lexi/trigger": "schedule"},
        )

    return _schedule


ingestor_schedules = [ingestor_schedule(i) for i in ingestion_config.ingestors]


@dg.schedule(
    name="catalog_cleanup_schedule",
    job=catalog_cleanup_job,
    cron_schedule="0 3 * * *",
    execution_timezone="UTC",
    description=(
        "Daily purge of products soft-deleted longer than LEXI_CATALOG_RETENTION_DAYS "
        f"(default {DEFAULT_RETENTION_DAYS:g}) and of orphaned categories."
    ),
)
def catalog_cleanup_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    # Read at tick time, so changing the variable needs no redeploy of the schedule.
    retention = float(os.environ.get("LEXI_CATALOG_RETENTION_DAYS") or DEFAULT_RETENTION_DAYS)
    return dg.RunRequest(
        run_config=dg.RunConfig(
            ops={"purge_soft_deleted_products": CleanupConfig(retention_days=retention)}
        )
    )
