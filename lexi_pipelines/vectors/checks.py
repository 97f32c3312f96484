"""Asset checks: indexed items find themselves."""

from collections.abc import Callable, Iterator

import dagster as dg
from sqlalchemy import Engine

from lexi_pipelines.catalog.partitions import ingestor_partitions
from lexi_pipelines.common.resources import DatabaseResource
from lexi_pipelines.documents.partitions import project_partitions
from lexi_pipelines.vectors.assets import CHUNK_VECTORS, PRODUCT_VECTORS
from lexi_pipelines.vectors.index import IndexSpec
from lexi_pipelines.vectors.quality import self_retrieval
from lexi_pipelines.vectors.resources import Embedder, VectorIndexResource
from lexi_pipelines.vectors.texts import (
    IndexItem,
    chunk_items,
    chunk_spec,
    product_items,
    product_spec,
)

SAMPLE_SIZE = 16


def _check(
    namespace: str,
    database: DatabaseResource,
    embedder: Embedder,
    vector_index: VectorIndexResource,
    spec_for: Callable[[int], IndexSpec],
    items_of: Callable[[Engine, str], Iterator[IndexItem]],
) -> dg.AssetCheckResult:
    model = embedder.get()
    index = vector_index.open(spec_for(model.dimension))
    try:
        outcome = self_retrieval(
            index, model, namespace, list(items_of(database.engine, namespace)), SAMPLE_SIZE
        )
    finally:
        index.close()
    return dg.AssetCheckResult(
        passed=not outcome.misses,
        metadata={
            "sampled": outcome.sampled,
            "top1_hits": outcome.hits,
            "misses": dg.MetadataValue.json(outcome.misses),
        },
    )


@dg.asset_check(
    asset=PRODUCT_VECTORS,
    partitions_def=ingestor_partitions,
    description="A sample of products, embedded again, retrieves itself as the top-1 result.",
)
def products_retrieve_themselves(
    context: dg.AssetCheckExecutionContext,
    database: DatabaseResource,
    embedder: Embedder,
    vector_index: VectorIndexResource,
) -> dg.AssetCheckResult:
    return _check(
        context.partition_key, database, embedder, vector_index, product_spec, product_items
    )


@dg.asset_check(
    asset=CHUNK_VECTORS,
    partitions_def=project_partitions,
    description="A sample of chunks, embedded again, retrieves itself as the top-1 result.",
)
def chunks_retrieve_themselves(
    context: dg.AssetCheckExecutionContext,
    database: DatabaseResource,
    embedder: Embedder,
    vector_index: VectorIndexResource,
) -> dg.AssetCheckResult:
    return _check(context.partition_key, database, embedder, vector_index, chunk_spec, chunk_items)
