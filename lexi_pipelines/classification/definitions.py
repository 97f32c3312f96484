"""Everything the classification domain contributes to the code location."""

import dagster as dg

from lexi_pipelines.classification import assets, checks
from lexi_pipelines.classification.jobs import prediction_job, training_job
from lexi_pipelines.classification.sensors import labels_sensor

defs = dg.Definitions(
    assets=dg.load_assets_from_modules([assets]),
    asset_checks=dg.load_asset_checks_from_modules([checks]),
    jobs=[training_job, prediction_job],
    sensors=[labels_sensor],
)
