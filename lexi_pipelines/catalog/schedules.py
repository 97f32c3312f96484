"""One cron schedule per ingestor (its ``schedule`` field) and the daily cleanup."""

import dagster as dg

from lexi_pipelines.catalog.config import IngestorConfig
from lexi_pipelines.catalog.jobs import catalog_cleanup_job, catalog_ingest_job
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

catalog_cleanup_schedule = dg.ScheduleDefinition(
    name="catalog_cleanup_schedule",
    job=catalog_cleanup_job,
    cron_schedule="0 3 * * *",
    execution_timezone="UTC",
    description="Daily purge of long soft-deleted products and orphaned categories.",
)
