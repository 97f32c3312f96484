"""Re-indexing jobs for backfills (the ingest and documents jobs index as their last step)."""

import dagster as dg

from lexi_pipelines.common.queues import queue
from lexi_pipelines.vectors.assets import chunk_vectors, product_vectors

product_vectors_job = dg.define_asset_job(
    name="product_vectors_job",
    selection=dg.AssetSelection.assets(product_vectors),
    tags=queue("indexing"),
    description="Embed and index one ingestor's products (incremental).",
)

chunk_vectors_job = dg.define_asset_job(
    name="chunk_vectors_job",
    selection=dg.AssetSelection.assets(chunk_vectors),
    tags=queue("indexing"),
    description="Embed and index one project's chunks (incremental).",
)
