"""Everything the catalog domain contributes to the code location."""

import dagster as dg

from lexi_pipelines.catalog import assets, checks
from lexi_pipelines.catalog.jobs import catalog_cleanup_job, catalog_ingest_job
from lexi_pipelines.catalog.schedules import catalog_cleanup_schedule, ingestor_schedules
from lexi_pipelines.catalog.sensors import catalog_feed_update_sensor

defs = dg.Definitions(
    assets=dg.load_assets_from_modules([assets]),
    asset_checks=dg.load_asset_checks_from_modules([checks]),
    jobs=[catalog_ingest_job, catalog_cleanup_job],
    schedules=[*ingestor_schedules, catalog_cleanup_schedule],
    sensors=[catalog_feed_update_sensor],
)
