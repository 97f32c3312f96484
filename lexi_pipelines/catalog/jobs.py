"""Catalog jobs: partitioned ingestion and the daily cleanup."""

from datetime import timedelta

import dagster as dg
from pydantic import Field

from lexi_pipelines.catalog.assets import brand_registry, product_feed
from lexi_pipelines.catalog.cleanup import purge_deleted
from lexi_pipelines.common.failures import TRANSIENT_RETRY
from lexi_pipelines.common.queues import queue
from lexi_pipelines.common.resources import DatabaseResource
from lexi_pipelines.vectors.assets import product_vectors

catalog_ingest_job = dg.define_asset_job(
    name="catalog_ingest_job",
    selection=dg.AssetSelection.assets(brand_registry, product_feed, product_vectors),
    tags=queue("ingestion"),
    description="Registry, feed, then product vectors for one ingestor (partition), as the "
    "seed's ingest task chained them; asset checks run with it.",
)


DEFAULT_RETENTION_DAYS = 30.0


class CleanupConfig(dg.Config):
    retention_days: float = Field(
        default=DEFAULT_RETENTION_DAYS,
        ge=0,
        description="Purge products soft-deleted longer ago than this.",
    )


@dg.op(retry_policy=TRANSIENT_RETRY)
def purge_soft_deleted_products(
    context: dg.OpExecutionContext, config: CleanupConfig, database: DatabaseResource
) -> dg.Output[None]:
    result = purge_deleted(database.engine, timedelta(days=config.retention_days))
    context.log.info(
        "purged %d products, %d offers, %d groups deleted before %s; %d orphaned categories",
        result.products_purged,
        result.offers_purged,
        result.groups_purged,
        result.cutoff.isoformat(),
        result.categories_purged,
    )
    return dg.Output(
        None,
        metadata={
            "cutoff": result.cutoff.isoformat(),
            "products_purged": result.products_purged,
            "offers_purged": result.offers_purged,
            "groups_purged": result.groups_purged,
            "categories_purged": result.categories_purged,
        },
    )


@dg.job(tags=queue("ingestion"), description="Hard-delete old soft-deleted catalog rows.")
def catalog_cleanup_job() -> None:
    purge_soft_deleted_products()
