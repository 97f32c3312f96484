"""The code location that the jobs CLI test serves with ``dagster dev``.

The real classification assets, checks and jobs and the operations jobs with the real
resources, but no sensors or schedules: ``labels_sensor`` would otherwise start a training
run of the test's project behind the test's back, and the assertions count runs. Runs execute
in one process: the multiprocess executor's process per step costs 7-10 s per step on the
2-core test machine (a training run took 46 s instead of about 10).
"""

import dagster as dg

from lexi_pipelines.classification import definitions as classification
from lexi_pipelines.operations import definitions as operations
from lexi_pipelines.resources import build_resources
from lexi_pipelines.settings import get_settings

defs = dg.Definitions(
    assets=classification.defs.assets,
    asset_checks=classification.defs.asset_checks,
    jobs=[*(classification.defs.jobs or []), *(operations.defs.jobs or [])],
    resources=build_resources(get_settings()),
    executor=dg.in_process_executor,
)
