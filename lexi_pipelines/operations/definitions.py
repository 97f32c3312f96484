"""Everything the operations domain contributes to the code location."""

import dagster as dg

from lexi_pipelines.operations.jobs import classification_inference_job
from lexi_pipelines.operations.sensors import run_failure_sensor

defs = dg.Definitions(
    jobs=[classification_inference_job],
    sensors=[run_failure_sensor],
)
