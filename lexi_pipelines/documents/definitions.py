"""Everything the documents domain contributes to the code location."""

import dagster as dg

from lexi_pipelines.documents import assets, checks
from lexi_pipelines.documents.jobs import documents_job
from lexi_pipelines.documents.schedules import documents_reconcile_schedule
from lexi_pipelines.documents.sensors import documents_inbox_sensor

defs = dg.Definitions(
    assets=dg.load_assets_from_modules([assets]),
    asset_checks=dg.load_asset_checks_from_modules([checks]),
    jobs=[documents_job],
    schedules=[documents_reconcile_schedule],
    sensors=[documents_inbox_sensor],
)
