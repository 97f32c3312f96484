"""Everything the vectors domain contributes to the code location."""

import dagster as dg

from lexi_pipelines.vectors import assets, checks
from lexi_pipelines.vectors.jobs import chunk_vectors_job, product_vectors_job

defs = dg.Definitions(
    assets=dg.load_assets_from_modules([assets]),
    asset_checks=dg.load_asset_checks_from_modules([checks]),
    jobs=[product_vectors_job, chunk_vectors_job],
)
