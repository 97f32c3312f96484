"""Sensor that starts an ingest when an ingestor's registry, index or shards change."""

import json

import dagster as dg

from lexi_pipelines.catalog.errors import TransientSourceError
from lexi_pipelines.catalog.fingerprint import source_fingerprint
from lexi_pipelines.catalog.jobs import catalog_ingest_job
from lexi_pipelines.catalog.resources import CatalogSourceResource

FEED_CHECK_INTERVAL_S = 120


@dg.sensor(
    name="catalog_feed_update_sensor",
    job=catalog_ingest_job,
    minimum_interval_seconds=FEED_CHECK_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Requests an ingest of an ingestor whose registry, feed index or shards changed.",
)
def catalog_feed_update_sensor(
    context: dg.SensorEvaluationContext, catalog_sources: CatalogSourceResource
) -> dg.SensorResult:
    config = catalog_sources.ingestion_config
    previous: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    current = dict(previous)
    requests = []
    with catalog_sources.reader() as reader:
        for ingestor in config.ingestors:
            try:
                fingerprint = source_fingerprint(ingestor, reader)
            except TransientSourceError as exc:
                # Keep the old fingerprint: the next tick tries again.
                context.log.warning("%s: source unreachable, will retry: %s", ingestor.name, exc)
                continue
            current[ingestor.name] = fingerprint
            if previous.get(ingestor.name) != fingerprint:
                requests.append(
                    dg.RunRequest(
                        run_key=f"{ingestor.name}:{fingerprint[:16]}",
                        partition_key=ingestor.name,
                        tags={"lexi/trigger": "feed-change"},
                    )
                )
    # Forget ingestors removed from ingestion.yaml so the cursor does not grow forever.
    current = {name: fp for name, fp in current.items() if name in config.names}
    return dg.SensorResult(
        run_requests=requests,
        cursor=json.dumps(current, sort_keys=True),
        skip_reason=None if requests else "no ingestor's sources changed",
    )
