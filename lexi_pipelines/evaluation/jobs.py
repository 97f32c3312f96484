"""The per-model evaluation job (quality check, gate, evaluation) and the leaderboard job."""

import dagster as dg

from lexi_pipelines.common.queues import SELF_REPORTING_TAG, queue
from lexi_pipelines.evaluation.assets import dataset, leaderboard, results

evaluation_job = dg.define_asset_job(
    name="evaluation_job",
    selection=dg.AssetSelection.assets(dataset, results),
    # QC and evaluation failures are emailed by the assets and evaluation_run_failure_sensor.
    tags={**queue("evaluation"), SELF_REPORTING_TAG: "true"},
    description="Quality-check one model's upload and, when the blocking checks pass, evaluate "
    "it against the golden values.",
)

leaderboard_job = dg.define_asset_job(
    name="evaluation_leaderboard_job",
    selection=dg.AssetSelection.assets(leaderboard),
    tags=queue("evaluation"),
    description="Rank every model of a use case by its latest results.",
)
