"""Everything the evaluation domain contributes to the code location."""

import dagster as dg

from lexi_pipelines.evaluation import assets, checks
from lexi_pipelines.evaluation.jobs import evaluation_job, leaderboard_job
from lexi_pipelines.evaluation.sensors import (
    evaluation_leaderboard_sensor,
    evaluation_run_failure_sensor,
    evaluation_upload_sensor,
)

defs = dg.Definitions(
    assets=dg.load_assets_from_modules([assets]),
    asset_checks=dg.load_asset_checks_from_modules([checks]),
    jobs=[evaluation_job, leaderboard_job],
    sensors=[
        evaluation_upload_sensor,
        evaluation_run_failure_sensor,
        evaluation_leaderboard_sensor,
    ],
)
