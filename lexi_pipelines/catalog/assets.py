"""Catalog assets: the brand registry and the product feed of each ingestor."""

from dataclasses import asdict
from typing import Any

import dagster as dg

from lexi_pipelines.catalog.errors import CatalogInputError
from lexi_pipelines.catalog.feed import ingest_feed
from lexi_pipelines.catalog.partitions import ingestor_partitions
from lexi_pipelines.catalog.registry import ingest_registry
from lexi_pipelines.catalog.resources import CatalogSourceResource
from lexi_pipelines.common.failures import TRANSIENT_RETRY, permanent_failures
from lexi_pipelines.common.markdown import markdown_table
from lexi_pipelines.common.resources import DatabaseResource

BRAND_REGISTRY = dg.AssetKey(["catalog", "brand_registry"])
PRODUCT_FEED = dg.AssetKey(["catalog", "product_feed"])


def _markdown(rows: list[dict[str, Any]]) -> dg.MetadataValue:
    return dg.MetadataValue.md(markdown_table(rows))


@dg.asset(
    key=BRAND_REGISTRY,
    partitions_def=ingestor_partitions,
    group_name="catalog",
    kinds={"json", "sql"},
    retry_policy=TRANSIENT_RETRY,
    description=(
        "Organizations, brands and category slugs of the ingestor's JSON-LD brand registry "
        "(for `cmp` sources: the organizations picked by `filter.organization`)."
    ),
)
def brand_registry(
    context: dg.AssetExecutionContext,
    database: DatabaseResource,
    catalog_sources: CatalogSourceResource,
) -> dg.MaterializeResult:
    ingestor = catalog_sources.ingestor(context.partition_key)
    with catalog_sources.reader() as reader, permanent_failures(CatalogInputError):
        result = ingest_registry(database.engine, ingestor, reader)
    context.log.info(
        "%s: %d organizations (%d new, %d changed, %d unchanged) from %s",
        ingestor.name,
        len(result.organizations),
        result.organizations_inserted,
        result.organizations_updated,
        result.organizations_unchanged,
        ingestor.registry,
    )
    return dg.MaterializeResult(
        metadata={
            "source": dg.MetadataValue.path(ingestor.registry),
            "organizations": len(result.organizations),
            "organizations_inserted": result.organizations_inserted,
            "organizations_updated": result.organizations_updated,
            "organizations_unchanged": result.organizations_unchanged,
            "brands_written": result.brands_written,
            "categories": result.categories,
            "organizations_without_feed": dg.MetadataValue.json(result.organizations_without_feed),
            "duration_s": round(result.duration_s, 3),
            "preview": _markdown(result.preview),
        }
    )


@dg.asset(
    key=PRODUCT_FEED,
    deps=[BRAND_REGISTRY],
    partitions_def=ingestor_partitions,
    group_name="catalog",
    kinds={"json", "sql"},
    retry_policy=TRANSIENT_RETRY,
    description=(
        "Product groups, products and offers from the ingestor's sharded feed; unchanged "
        "shards are skipped and products gone from the feed are soft-deleted."
    ),
)
def product_feed(
    context: dg.AssetExecutionContext,
    database: DatabaseResource,
    catalog_sources: CatalogSourceResource,
) -> dg.MaterializeResult:
    ingestor = catalog_sources.ingestor(context.partition_key)
    with catalog_sources.reader() as reader, permanent_failures(CatalogInputError):
        result = ingest_feed(database.engine, ingestor, reader)
    counts = {
        key: value
        for key, value in asdict(result).items()
        if isinstance(value, int) and not isinstance(value, bool)
    }
    context.log.info(
        "%s: %d shards (%d skipped as unchanged); products %d new, %d changed, %d unchanged, "
        "%d soft-deleted in %.2fs",
        ingestor.name,
        result.shards_total,
        result.shards_skipped,
        result.products_inserted,
        result.products_updated,
        result.products_unchanged,
        result.products_soft_deleted,
        result.duration_s,
    )
    if result.unlinked_variants:
        context.log.warning(
            "%d variants name a group that is not in the feed", len(result.unlinked_variants)
        )
    products_per_s = result.products_written / result.duration_s if result.duration_s else 0.0
    return dg.MaterializeResult(
        metadata={
            **counts,
            "duration_s": round(result.duration_s, 3),
            "products_written_per_s": round(products_per_s, 1),
            "unlinked_variants": _markdown(result.unlinked_variants[:50]),
            "unlinked_variant_count": len(result.unlinked_variants),
            "brands_created_from_feed": dg.MetadataValue.json(result.brands_created_from_feed),
            "organizations_created_from_feed": dg.MetadataValue.json(
                result.organizations_created_from_feed
            ),
            "preview": _markdown(result.preview),
        }
    )
