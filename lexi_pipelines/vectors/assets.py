"""Vector assets: product vectors per ingestor and chunk vectors per project."""

from collections.abc import Callable, Iterator

import dagster as dg
from sqlalchemy import Engine

from lexi_pipelines.catalog.assets import PRODUCT_FEED
from lexi_pipelines.catalog.partitions import ingestor_partitions
from lexi_pipelines.common.failures import TRANSIENT_RETRY
from lexi_pipelines.common.resources import DatabaseResource
from lexi_pipelines.documents.assets import DOCUMENT_CHUNKS
from lexi_pipelines.documents.partitions import project_partitions
from lexi_pipelines.vectors.index import IndexSpec
from lexi_pipelines.vectors.resources import Embedder, VectorIndexResource
from lexi_pipelines.vectors.sync import sync_index
from lexi_pipelines.vectors.texts import (
    IndexItem,
    chunk_items,
    chunk_spec,
    product_items,
    product_spec,
)

PRODUCT_VECTORS = dg.AssetKey(["vectors", "product_vectors"])
CHUNK_VECTORS = dg.AssetKey(["vectors", "chunk_vectors"])


def _index_namespace(
    context: dg.AssetExecutionContext,
    database: DatabaseResource,
    embedder: Embedder,
    vector_index: VectorIndexResource,
    spec_for: Callable[[int], IndexSpec],
    items_of: Callable[[Engine, str], Iterator[IndexItem]],
) -> dg.MaterializeResult:
    model = embedder.get()
    namespace = context.partition_key
    spec = spec_for(model.dimension)
    items = list(items_of(database.engine, namespace))
    index = vector_index.open(spec)
    try:
        result = sync_index(
            database.engine,
            index,
            model,
            namespace,
            items,
            bm25_path=vector_index.bm25_path(spec.name, namespace),
            log=context.log.info,
        )
        stored = index.count(namespace)
    finally:
        index.close()
    context.log.info(
        "%s/%s: %d items: %d embedded, %d metadata-only, %d unchanged, %d deleted in %.2fs",
        spec.name,
        namespace,
        result.items,
        result.embedded,
        result.metadata_updated,
        result.unchanged,
        result.deleted,
        result.duration_s,
    )
    encode_rate = result.embedded / result.encode_seconds if result.encode_seconds else 0.0
    return dg.MaterializeResult(
        metadata={
            "backend": vector_index.backend,
            "index": spec.name,
            "namespace": namespace,
            "model": model.name,
            "device": model.device,
            "dimension": model.dimension,
            "items": result.items,
            "embedded": result.embedded,
            "metadata_updated": result.metadata_updated,
            "unchanged": result.unchanged,
            "deleted": result.deleted,
            "vectors_in_namespace": stored,
            "embedded_per_s": round(result.embedded_per_s, 1),
            "encode_per_s": round(encode_rate, 1),
            "duration_s": round(result.duration_s, 3),
        }
    )


@dg.asset(
    key=PRODUCT_VECTORS,
    deps=[PRODUCT_FEED],
    partitions_def=ingestor_partitions,
    group_name="vectors",
    kinds={"pytorch", "lancedb"},
    retry_policy=TRANSIENT_RETRY,
    description="Dense (all-MiniLM-L6-v2) and sparse (BM25) vectors of the ingestor's live "
    "products in the `products` index, namespace = ingestor, id `product:{urn}`. Only new or "
    "re-worded products are embedded; soft-deleted ones leave the index.",
)
def product_vectors(
    context: dg.AssetExecutionContext,
    database: DatabaseResource,
    embedder: Embedder,
    vector_index: VectorIndexResource,
) -> dg.MaterializeResult:
    return _index_namespace(context, database, embedder, vector_index, product_spec, product_items)


@dg.asset(
    key=CHUNK_VECTORS,
    deps=[DOCUMENT_CHUNKS],
    partitions_def=project_partitions,
    group_name="vectors",
    kinds={"pytorch", "lancedb"},
    retry_policy=TRANSIENT_RETRY,
    description="Vectors of the project's document chunks in the `chunks` index, namespace = "
    "project, id = chunk id; chunks of deleted or changed documents leave the index.",
)
def chunk_vectors(
    context: dg.AssetExecutionContext,
    database: DatabaseResource,
    embedder: Embedder,
    vector_index: VectorIndexResource,
) -> dg.MaterializeResult:
    return _index_namespace(context, database, embedder, vector_index, chunk_spec, chunk_items)
