"""Writing prepared feed shards: classify against stored rows, stream what changed.

Shards arrive one by one from the parse workers. New rows are streamed to the database as
each shard arrives, so the database works while the workers parse the next shards; rows
that replace stored ones, and variants whose group has not been seen yet, are written at the
end. Everything happens inside the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, exists, select

from lexi_pipelines.catalog.errors import CatalogInputError
from lexi_pipelines.catalog.locations import strip_query
from lexi_pipelines.catalog.parsing import item_where
from lexi_pipelines.catalog.registry import brand_row, organization_row
from lexi_pipelines.catalog.rows import (
    GROUP_COLUMNS,
    OFFER_COLUMNS,
    PRODUCT_COLUMNS_WITH_GROUP,
    BrandDirectory,
    PreparedShard,
)
from lexi_pipelines.db.bulk import (
    bulk_insert,
    bulk_upsert,
    copy_text_insert,
    copy_text_upsert,
    delete_by_keys,
    existing_keys,
    update_by_keys,
    uses_copy,
)
from lexi_pipelines.db.copy_text import copy_field
from lexi_pipelines.db.models import (
    Base,
    Brand,
    Category,
    Offer,
    Organization,
    Product,
    ProductGroup,
    table_of,
)

FEED_ONLY_REGISTRY_HASH = "feed-only"


@dataclass
class FeedResult:
    products_inserted: int = 0
    products_updated: int = 0
    products_unchanged: int = 0
    products_soft_deleted: int = 0
    groups_inserted: int = 0
    groups_updated: int = 0
    groups_unchanged: int = 0
    groups_soft_deleted: int = 0
    offers_written: int = 0
    shards_total: int = 0
    shards_skipped: int = 0
    shards_ingested: int = 0
    shards_removed: int = 0
    organizations_created_from_feed: list[str] = field(default_factory=list)
    brands_created_from_feed: list[str] = field(default_factory=list)
    variants_linked_by_url: int = 0
    unlinked_variants: list[dict[str, str]] = field(default_factory=list)
    products_without_brand: int = 0
    duration_s: float = 0.0
    preview: list[dict[str, Any]] = field(default_factory=list)

    @property
    def products_written(self) -> int:
        return self.products_inserted + self.products_updated


@dataclass
class RegistryState:
    """What the registry asset stored for this ingestor's organizations."""

    organizations: dict[str, tuple[str, str | None]]  # urn -> (content hash, feed url)
    brand_urns: frozenset[str]
    brands_by_name: dict[str, dict[str, str]]  # organization urn -> name key -> brand urn

    def brands(self, organization: str) -> BrandDirectory:
        return BrandDirectory(self.brand_urns, self.brands_by_name.get(organization, {}))

    def registry_digest(self, organization: str) -> str:
        return self.organizations.get(organization, (FEED_ONLY_REGISTRY_HASH, None))[0]


@dataclass
class _Stored:
    """A row this ingestor already has: enough to classify a new version of it."""

    digest: str
    shard: str
    alive: bool
    group: str | None = None


@dataclass
class _Pending:
    """A product written after the stream: it replaces a stored row or awaits its group."""

    urn: str
    digest: str
    variant_of: str | None
    url_key: str | None
    row: Any
    offers: Any
    location: str


class FeedWriter:
    """Classifies prepared shards against the stored rows and writes what changed."""

    def __init__(
        self,
        conn: Connection,
        ingestor: str,
        state: RegistryState,
        now: datetime,
        result: FeedResult,
        rewritten: set[str],
    ) -> None:
        self.conn = conn
        self.ingestor = ingestor
        self.state = state
        self.now = now
        self.result = result
        # Shards read this time or gone from the index: rows only they held are soft-deleted.
        self.rewritten = rewritten
        self.copy_text = uses_copy(conn)
        self.products, self.groups, self.group_by_url = self._load_stored()
        self.live_groups = {urn for urn, g in self.groups.items() if g.alive}
        # Whether any other ingestor stored rows: only then can a "new" @id be taken over.
        products = table_of(Product)
        self.shared_keys = bool(
            conn.scalar(select(exists().where(products.c.ingestor != ingestor)))
        )
        # Every @id of the feed so far -> index of its shard in ``shard_items``, which keeps
        # (location, @ids, item numbers) per shard to name a duplicate's first occurrence.
        self.seen: dict[str, int] = {}
        self.shard_items: list[tuple[str, list[str], list[int]]] = []
        self.seen_products: set[str] = set()
        self.seen_groups: set[str] = set()
        self.pending: list[_Pending] = []
        self.provisional: list[_Pending] = []
        self.changed_groups: list[Any] = []
        self.brands: dict[str, dict[str, Any]] = {}
        self.categories: dict[str, dict[str, Any]] = {}
        self.replaced_offers: list[str] = []

    def _load_stored(self) -> tuple[dict[str, _Stored], dict[str, _Stored], dict[str, str]]:
        products, groups = table_of(Product), table_of(ProductGroup)
        stored_products = {
            urn: _Stored(digest, shard, deleted is None, group)
            for urn, digest, shard, deleted, group in self.conn.execute(
                select(
                    products.c.urn,
                    products.c.content_hash,
                    products.c.shard_url,
                    products.c.deleted_at,
                    products.c.product_group_urn,
                ).where(products.c.ingestor == self.ingestor)
            )
        }
        stored_groups: dict[str, _Stored] = {}
        group_by_url: dict[str, str] = {}
        for urn, digest, shard, deleted, url in self.conn.execute(
            select(
                groups.c.urn,
                groups.c.content_hash,
                groups.c.shard_url,
                groups.c.deleted_at,
                groups.c.url,
            ).where(groups.c.ingestor == self.ingestor)
        ):
            stored_groups[urn] = _Stored(digest, shard, deleted is None)
            if url and deleted is None:
                group_by_url[strip_query(url)] = urn
        return stored_products, stored_groups, group_by_url

    # -- per shard ----------------------------------------------------------------------------

    def add(self, batch: PreparedShard) -> None:
        self._check_duplicates(batch)
        self.categories.update(batch.categories)
        for urn, (organization, name) in batch.new_brands.items():
            if urn not in self.brands:
                # Named by the feed but not by the registry: kept, marked as such.
                self.brands[urn] = brand_row(
                    urn, organization, name, FEED_ONLY_REGISTRY_HASH, self.now,
                    seen_only_in_feed=True,
                )  # fmt: skip
        self.result.products_without_brand += batch.products_without_brand
        if len(self.result.preview) < 10:
            self.result.preview.extend(batch.preview[: 10 - len(self.result.preview)])

        new_groups = []
        for urn, digest, url_key, row in zip(
            batch.group_urns, batch.group_digests, batch.group_url_keys, batch.group_rows,
            strict=True,
        ):  # fmt: skip
            self.seen_groups.add(urn)
            self.live_groups.add(urn)
            if url_key:
                self.group_by_url[url_key] = urn
            stored = self.groups.get(urn)
            if stored is None:
                self.result.groups_inserted += 1
                new_groups.append(row)
            elif stored.digest != digest or not stored.alive:
                self.result.groups_updated += 1
                self.changed_groups.append(row)
            else:
                self.result.groups_unchanged += 1
        self._insert(ProductGroup, GROUP_COLUMNS, new_groups)

        urns = batch.product_urns
        self.seen_products.update(urns)
        live_groups = self.live_groups
        if self.products.keys().isdisjoint(urns):
            # Every product is new to this ingestor (always so on a first ingest): the rows
            # go as prepared, linked to the group they name.
            for n, variant_of in enumerate(batch.variant_of):
                if variant_of is not None and variant_of not in live_groups:
                    # Its group may come in a later shard: check at the end.
                    self.provisional.append(
                        _Pending(urns[n], batch.product_digests[n], variant_of,
                                 batch.url_keys[n], None, None, batch.location)
                    )  # fmt: skip
            self.result.products_inserted += len(urns)
            if self.copy_text and not self.shared_keys:
                copy_text_insert(
                    self.conn, table_of(Product), PRODUCT_COLUMNS_WITH_GROUP, batch.product_rows
                )
                self._copy_offers(batch.offer_rows)
            else:
                self._insert_products(batch.product_row_list(), batch.offer_row_list())
            return
        new_products: list[Any] = []
        new_offers: list[Any] = []
        for urn, digest, variant_of, url_key, row, offers in zip(
            urns, batch.product_digests, batch.variant_of, batch.url_keys,
            batch.product_row_list(), batch.offer_row_list(), strict=True,
        ):  # fmt: skip
            if urn in self.products:
                # Compared with the stored row once every group of the feed is known.
                self.pending.append(
                    _Pending(urn, digest, variant_of, url_key, row, offers, batch.location)
                )
                continue
            if variant_of is not None and variant_of not in live_groups:
                self.provisional.append(
                    _Pending(urn, digest, variant_of, url_key, None, None, batch.location)
                )
            self.result.products_inserted += 1
            new_products.append(row)
            new_offers.append(offers)
        self._insert_products(new_products, new_offers)

    def _check_duplicates(self, batch: PreparedShard) -> None:
        urns = [*batch.product_urns, *batch.group_urns]
        fresh = dict.fromkeys(urns, len(self.shard_items))
        # Set operations first: the item-by-item search only runs when one will fail.
        if (
            len(fresh) != len(urns)
            or not self.seen.keys().isdisjoint(fresh)
            or not self.products.keys().isdisjoint(fresh)
        ):
            self._find_duplicate(batch)
        self.seen.update(fresh)
        # Not the batch itself: its rows are not kept once written.
        positions = [*batch.product_positions, *batch.group_positions]
        self.shard_items.append((batch.location, urns, positions))

    def _find_duplicate(self, batch: PreparedShard) -> None:
        here: dict[str, str] = {}
        for urns, positions in (
            (batch.product_urns, batch.product_positions),
            (batch.group_urns, batch.group_positions),
        ):
            for urn, position in zip(urns, positions, strict=True):
                where = item_where(position, urn)
                first = self._first_seen(urn) or here.get(urn)
                if first:
                    raise CatalogInputError(
                        batch.location,
                        f"duplicate @id {urn} in one feed (first seen at {first})",
                        item=where,
                        field="item.@id",
                    )
                here[urn] = f"{batch.location} {where}"
                stored = self.products.get(urn)
                if stored and stored.alive and stored.shard not in self.rewritten:
                    raise CatalogInputError(
                        batch.location,
                        f"duplicate @id {urn} in one feed (also in unchanged shard {stored.shard})",
                        item=where,
                        field="item.@id",
                    )

    def _first_seen(self, urn: str) -> str | None:
        """Where an earlier shard of this feed had ``urn``."""
        if urn not in self.seen:
            return None
        location, urns, positions = self.shard_items[self.seen[urn]]
        return f"{location} {item_where(positions[urns.index(urn)], urn)}"

    # -- after the last shard -----------------------------------------------------------------

    def finish(self) -> None:
        result, now = self.result, self.now
        self._upsert(ProductGroup, GROUP_COLUMNS, self.changed_groups)
        self._settle_provisional_links()
        new_products: list[Any] = []
        new_offers: list[Any] = []
        changed_products: list[Any] = []
        changed_offers: list[Any] = []
        for item in self.pending:
            group = self._link(item)
            stored = self.products.get(item.urn)
            if stored is None:
                result.products_inserted += 1
                new_products.append(self._product_row(item.row, group))
                new_offers.append(item.offers)
            elif stored.digest != item.digest or not stored.alive or stored.group != group:
                result.products_updated += 1
                changed_products.append(self._product_row(item.row, group))
                changed_offers.append(item.offers)
                self.replaced_offers.append(item.urn)
            else:
                result.products_unchanged += 1
        self._insert_products(new_products, new_offers)
        self._upsert(Product, PRODUCT_COLUMNS_WITH_GROUP, changed_products)
        delete_by_keys(self.conn, table_of(Offer), "product_urn", self.replaced_offers)
        self._insert_offers(changed_offers)

        bulk_upsert(self.conn, table_of(Brand), list(self.brands.values()), update=False)
        bulk_upsert(self.conn, table_of(Category), list(self.categories.values()), update=False)
        result.brands_created_from_feed = [f"{b['name']} ({u})" for u, b in self.brands.items()]

        soft_delete = {"deleted_at": now, "updated_at": now}
        gone_products = [
            urn
            for urn, s in self.products.items()
            if s.alive and s.shard in self.rewritten and urn not in self.seen_products
        ]
        gone_groups = [
            urn
            for urn, s in self.groups.items()
            if s.alive and s.shard in self.rewritten and urn not in self.seen_groups
        ]
        result.products_soft_deleted = update_by_keys(
            self.conn, table_of(Product), "urn", gone_products, soft_delete
        )
        result.groups_soft_deleted = update_by_keys(
            self.conn, table_of(ProductGroup), "urn", gone_groups, soft_delete
        )

    def write_organizations(self, organizations: dict[str, str | None]) -> None:
        """Organizations a feed index named but no registry listed: kept, marked as such."""
        rows = [
            organization_row(
                urn,
                self.ingestor,
                name or urn,
                FEED_ONLY_REGISTRY_HASH,
                self.now,
                seen_only_in_feed=True,
            )
            for urn, name in organizations.items()
        ]
        self.result.organizations_created_from_feed = list(organizations)
        bulk_upsert(self.conn, table_of(Organization), rows, update=False)

    def _settle_provisional_links(self) -> None:
        """Relink new variants whose ``isVariantOf`` named no group of the whole feed."""
        relink: dict[str | None, list[str]] = {}
        for item in self.provisional:
            if item.variant_of not in self.live_groups:
                relink.setdefault(self._link(item), []).append(item.urn)
        for group, urns in relink.items():
            update_by_keys(self.conn, table_of(Product), "urn", urns, {"product_group_urn": group})

    # -- helpers ------------------------------------------------------------------------------

    def _link(self, item: _Pending) -> str | None:
        if not item.variant_of:
            return None
        if item.variant_of in self.live_groups:
            return item.variant_of
        by_url = self.group_by_url.get(item.url_key) if item.url_key else None
        if by_url:
            self.result.variants_linked_by_url += 1
            return by_url
        self.result.unlinked_variants.append(
            {"product": item.urn, "isVariantOf": item.variant_of, "shard": item.location}
        )
        return None

    def _product_row(self, row: Any, group: str | None) -> Any:
        """A prepared product row with its group column replaced."""
        if self.copy_text:
            # Fields are escaped, so the last raw tab is the last separator.
            return f"{row[: row.rindex(chr(9))]}\t{copy_field(group)}\n"
        return (*row[:-1], group)

    def _insert_products(self, rows: list[Any], offers: list[Any]) -> None:
        if not rows:
            return
        if self.shared_keys:
            # Rows "new" to this ingestor whose @id another ingestor holds are taken over.
            keys = [self._key(r) for r in rows]
            taken = existing_keys(self.conn, table_of(Product), "urn", keys)
            if taken:
                self._upsert(Product, PRODUCT_COLUMNS_WITH_GROUP, [
                    r for r, k in zip(rows, keys, strict=True) if k in taken
                ])  # fmt: skip
                delete_by_keys(self.conn, table_of(Offer), "product_urn", taken)
                rows = [r for r, k in zip(rows, keys, strict=True) if k not in taken]
        self._insert(Product, PRODUCT_COLUMNS_WITH_GROUP, rows)
        self._insert_offers(offers)

    def _insert_offers(self, offers: list[Any]) -> None:
        if self.copy_text:
            self._copy_offers("".join(offers))
        else:
            rows = [dict(zip(OFFER_COLUMNS, o, strict=True)) for batch in offers for o in batch]
            self.result.offers_written += bulk_insert(self.conn, table_of(Offer), rows)

    def _copy_offers(self, text: str) -> None:
        copy_text_insert(self.conn, table_of(Offer), OFFER_COLUMNS, text)
        self.result.offers_written += text.count("\n")

    def _insert(self, model: type[Base], columns: tuple[str, ...], rows: list[Any]) -> None:
        if not rows:
            return
        if self.copy_text:
            copy_text_insert(self.conn, table_of(model), columns, "".join(rows))
        else:
            bulk_insert(
                self.conn, table_of(model), [dict(zip(columns, r, strict=True)) for r in rows]
            )

    def _upsert(self, model: type[Base], columns: tuple[str, ...], rows: list[Any]) -> None:
        if not rows:
            return
        if self.copy_text:
            copy_text_upsert(self.conn, table_of(model), columns, "".join(rows))
        else:
            bulk_upsert(
                self.conn, table_of(model), [dict(zip(columns, r, strict=True)) for r in rows]
            )

    def _key(self, row: Any) -> str:
        # URNs never contain a raw tab (copy_field escapes it), so the split is exact.
        return row.split("\t", 1)[0] if self.copy_text else str(row[0])
