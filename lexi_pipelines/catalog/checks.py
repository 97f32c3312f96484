"""Asset checks on what the catalog assets stored for one ingestor partition."""

import dagster as dg
from sqlalchemy import and_, func, or_, select

from lexi_pipelines.catalog.assets import BRAND_REGISTRY, PRODUCT_FEED
from lexi_pipelines.catalog.partitions import ingestor_partitions
from lexi_pipelines.catalog.resources import CatalogSourceResource
from lexi_pipelines.common.markdown import markdown_table
from lexi_pipelines.common.resources import DatabaseResource
from lexi_pipelines.db.models import Offer, Organization, Product, table_of


@dg.asset_check(
    asset=BRAND_REGISTRY,
    partitions_def=ingestor_partitions,
    blocking=True,
    description="Every organization of the ingestor is stored and has a product feed to read.",
)
def registry_organizations_have_feeds(
    context: dg.AssetCheckExecutionContext,
    database: DatabaseResource,
    catalog_sources: CatalogSourceResource,
) -> dg.AssetCheckResult:
    ingestor = catalog_sources.ingestor(context.partition_key)
    orgs = table_of(Organization)
    with database.begin() as conn:
        rows = conn.execute(
            select(orgs.c.urn, orgs.c.feed_url).where(
                orgs.c.ingestor == ingestor.name, orgs.c.seen_only_in_feed.is_(False)
            )
        ).all()
    wanted = set(ingestor.organizations) or {urn for urn, _ in rows}
    stored = {urn for urn, _ in rows}
    missing = sorted(wanted - stored)
    # local/http ingestors name their feed in ingestion.yaml; cmp ones need it in the registry.
    without_feed = (
        sorted(urn for urn, feed in rows if urn in wanted and not feed)
        if ingestor.source_type == "cmp"
        else []
    )
    return dg.AssetCheckResult(
        passed=bool(stored) and not missing and not without_feed,
        metadata={
            "organizations": len(stored),
            "missing_organizations": dg.MetadataValue.json(missing),
            "organizations_without_feed": dg.MetadataValue.json(without_feed),
        },
    )


@dg.asset_check(
    asset=PRODUCT_FEED,
    partitions_def=ingestor_partitions,
    description="Live products' offers have a price >= 0 and a three-letter currency code.",
)
def product_offers_are_valid(
    context: dg.AssetCheckExecutionContext, database: DatabaseResource
) -> dg.AssetCheckResult:
    products, offers = table_of(Product), table_of(Offer)
    bad_offer = or_(
        offers.c.price < 0,
        offers.c.price_currency.is_(None),
        func.length(offers.c.price_currency) != 3,
    )
    query = (
        select(products.c.urn, offers.c.price, offers.c.price_currency)
        .join(offers, offers.c.product_urn == products.c.urn)
        .where(products.c.ingestor == context.partition_key, products.c.deleted_at.is_(None))
        .where(bad_offer)
    )
    with database.begin() as conn:
        bad = [dict(row._mapping) for row in conn.execute(query.limit(50))]
    return dg.AssetCheckResult(
        passed=not bad,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"invalid_offers": len(bad), "examples": dg.MetadataValue.md(markdown_table(bad))},
    )


@dg.asset_check(
    asset=PRODUCT_FEED,
    partitions_def=ingestor_partitions,
    description="Variants link to a product group and products resolve to a brand (warnings).",
)
def product_links_resolved(
    context: dg.AssetCheckExecutionContext, database: DatabaseResource
) -> dg.AssetCheckResult:
    products = table_of(Product)
    live = and_(products.c.ingestor == context.partition_key, products.c.deleted_at.is_(None))
    with database.begin() as conn:
        total = conn.scalar(select(func.count()).where(live)) or 0
        unlinked = (
            conn.scalar(
                select(func.count()).where(
                    live, products.c.variant_of.is_not(None), products.c.product_group_urn.is_(None)
                )
            )
            or 0
        )
        brandless = conn.scalar(select(func.count()).where(live, products.c.brand_urn.is_(None)))
    return dg.AssetCheckResult(
        passed=unlinked == 0 and not brandless,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "live_products": total,
            "unlinked_variants": unlinked,
            "products_without_brand": brandless or 0,
        },
    )
