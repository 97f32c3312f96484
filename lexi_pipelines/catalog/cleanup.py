"""Maintenance: purge long soft-deleted products and groups, then orphaned categories."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, delete, exists, select

from lexi_pipelines.db.models import (
    Category,
    Offer,
    OrganizationCategory,
    Product,
    ProductGroup,
    table_of,
)


@dataclass(frozen=True)
class CleanupResult:
    cutoff: datetime
    products_purged: int
    offers_purged: int
    groups_purged: int
    categories_purged: int


def purge_deleted(
    engine: Engine, retention: timedelta, *, now: datetime | None = None
) -> CleanupResult:
    cutoff = (now or datetime.now(UTC)) - retention
    products, groups, offers = table_of(Product), table_of(ProductGroup), table_of(Offer)
    with engine.begin() as conn:
        doomed = select(products.c.urn).where(products.c.deleted_at < cutoff)
        offers_purged = conn.execute(delete(offers).where(offers.c.product_urn.in_(doomed)))
        products_purged = conn.execute(delete(products).where(products.c.deleted_at < cutoff))
        doomed_groups = select(groups.c.urn).where(groups.c.deleted_at < cutoff)
        # Variants that outlive their group keep existing, unlinked.
        conn.execute(
            products.update()
            .where(products.c.product_group_urn.in_(doomed_groups))
            .values(product_group_urn=None)
        )
        groups_purged = conn.execute(delete(groups).where(groups.c.deleted_at < cutoff))
        categories_purged = _purge_orphan_categories(conn)
    return CleanupResult(
        cutoff=cutoff,
        products_purged=products_purged.rowcount or 0,
        offers_purged=offers_purged.rowcount or 0,
        groups_purged=groups_purged.rowcount or 0,
        categories_purged=categories_purged,
    )


def _purge_orphan_categories(conn: Connection) -> int:
    categories = table_of(Category)
    child = categories.alias("child")
    products, groups = table_of(Product), table_of(ProductGroup)
    links = table_of(OrganizationCategory)
    orphan = (
        ~exists().where(products.c.category_id == categories.c.id)
        & ~exists().where(groups.c.category_id == categories.c.id)
        & ~exists().where(links.c.category_id == categories.c.id)
        & ~exists().where(child.c.parent_id == categories.c.id)
    )
    total = 0
    # Removing a leaf can orphan its parent: repeat until a pass deletes nothing.
    while True:
        deleted = conn.execute(delete(categories).where(orphan)).rowcount or 0
        total += deleted
        if not deleted:
            return total
