"""Feed ingestion: feed indexes and shards into product groups, products and offers.

Everything is read, parsed and validated before the first write; the writes of one ingestor
then happen in one transaction, so bad input or a crash leaves the previous state intact.
Shards whose content (and organization registry entry) did not change since the last ingest
are skipped, which makes re-ingesting an unchanged feed nearly free.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import Connection, Engine, Table, select

from lexi_pipelines.catalog.config import IngestorConfig
from lexi_pipelines.catalog.errors import CatalogInputError
from lexi_pipelines.catalog.parsing import (
    PRODUCT_GROUP,
    FeedIndex,
    ParsedItem,
    parse_feed_index,
    parse_shard,
)
from lexi_pipelines.catalog.registry import category_rows, name_key, synthetic_brand_urn
from lexi_pipelines.catalog.sources import (
    Document,
    SourceReader,
    is_url,
    is_within,
    parent_location,
    resolve_location,
)
from lexi_pipelines.common.memory import paused_gc
from lexi_pipelines.db.bulk import (
    bulk_insert,
    bulk_upsert,
    delete_by_keys,
    existing_keys,
    update_by_keys,
)
from lexi_pipelines.db.models import (
    Brand,
    Category,
    FeedShard,
    Offer,
    Organization,
    Product,
    ProductGroup,
    table_of,
)

FEED_ONLY_REGISTRY_HASH = "feed-only"
# Below this many bytes of changed shards, process start-up costs more than it saves.
PARALLEL_PARSE_MIN_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class ShardRef:
    location: str
    organization_urn: str
    index_location: str


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
class _RegistryState:
    """What the registry asset stored for this ingestor's organizations."""

    organizations: dict[str, tuple[str, str | None]]  # urn -> (content hash, feed url)
    brands_by_urn: set[str]
    brands_by_name: dict[tuple[str, str], str]  # (organization urn, name key) -> brand urn


def strip_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def feed_index_locations(
    ingestor: IngestorConfig, organizations: Iterable[tuple[str, str | None]]
) -> list[tuple[str | None, str]]:
    """(organization hint, index location) pairs; ``cmp`` takes them from the registry."""
    if ingestor.source_type != "cmp":
        assert ingestor.feed_path is not None
        return [(None, ingestor.feed_path)]
    registry_dir = parent_location(ingestor.registry)
    return [
        (urn, resolve_location(registry_dir, feed_url))
        for urn, feed_url in organizations
        if feed_url
    ]


def list_shards(
    ingestor: IngestorConfig,
    reader: SourceReader,
    indexes: list[tuple[str | None, str]],
    known_organizations: set[str],
) -> tuple[list[ShardRef], dict[str, str | None]]:
    """Read the feed indexes; return the shards and organizations named only by a feed."""
    shards: dict[str, ShardRef] = {}
    new_organizations: dict[str, str | None] = {}
    for hint, index_location in indexes:
        document = reader.fetch(index_location)
        for position, index in enumerate(parse_feed_index(document), start=1):
            organization = _index_organization(
                ingestor, index, hint, known_organizations, index_location, position
            )
            if organization not in known_organizations:
                new_organizations.setdefault(organization, index.organization_name)
            base = parent_location(index_location)
            for shard_no, url in enumerate(index.shard_urls):
                location = resolve_location(base, url)
                if not is_within(base, location):
                    raise CatalogInputError(
                        index_location,
                        f"shard path {url!r} escapes the feed's folder {base}",
                        item=f"index {position}",
                        field=f"shards[{shard_no}].url",
                    )
                shards.setdefault(location, ShardRef(location, organization, index_location))
    return list(shards.values()), new_organizations


def _index_organization(
    ingestor: IngestorConfig,
    index: FeedIndex,
    hint: str | None,
    known: set[str],
    location: str,
    position: int,
) -> str:
    if index.organization_urn:
        return index.organization_urn
    if hint:
        return hint
    if len(known) == 1:
        return next(iter(known))
    raise CatalogInputError(
        location,
        f"the index names no organization and ingestor '{ingestor.name}' has "
        f"{len(known)} registry organizations to choose from",
        item=f"index {position}",
        field="orgid",
    )


def fetch_all(reader: SourceReader, locations: list[str]) -> list[Document]:
    if any(is_url(loc) for loc in locations) and len(locations) > 1:
        with ThreadPoolExecutor(max_workers=8) as pool:
            return list(pool.map(reader.fetch, locations))
    return [reader.fetch(loc) for loc in locations]


def parse_shards(documents: list[Document]) -> list[list[ParsedItem]]:
    """Parse shards, on every core when there is enough work to pay for the processes."""
    total = sum(len(d.content) for d in documents)
    workers = min(os.cpu_count() or 1, len(documents))
    if workers > 1 and total >= PARALLEL_PARSE_MIN_BYTES:
        # forkserver: forking a run process that holds threads and sockets is unsafe.
        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            return list(pool.map(parse_shard_without_gc, documents))
    return [parse_shard_without_gc(d) for d in documents]


def parse_shard_without_gc(document: Document) -> list[ParsedItem]:
    with paused_gc():
        return parse_shard(document)


def _load_registry_state(conn: Connection, ingestor: str) -> _RegistryState:
    orgs = table_of(Organization)
    brands = table_of(Brand)
    organizations = {
        urn: (digest, feed_url)
        for urn, digest, feed_url in conn.execute(
            select(orgs.c.urn, orgs.c.content_hash, orgs.c.feed_url).where(
                orgs.c.ingestor == ingestor
            )
        )
    }
    brands_by_urn: set[str] = set()
    brands_by_name: dict[tuple[str, str], str] = {}
    for urn, org, key in conn.execute(
        select(brands.c.urn, brands.c.organization_urn, brands.c.name_key)
    ):
        brands_by_urn.add(urn)
        brands_by_name.setdefault((org, key), urn)
    return _RegistryState(organizations, brands_by_urn, brands_by_name)


def ingest_feed(
    engine: Engine,
    ingestor: IngestorConfig,
    reader: SourceReader,
    *,
    now: datetime | None = None,
) -> FeedResult:
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    result = FeedResult()
    with engine.connect() as conn:
        state = _load_registry_state(conn, ingestor.name)
    if not state.organizations:
        raise CatalogInputError(
            ingestor.registry,
            f"no organizations stored for ingestor '{ingestor.name}'; "
            "materialize catalog/brand_registry for this partition first",
        )
    selected = [
        (urn, feed_url)
        for urn, (_, feed_url) in state.organizations.items()
        if not ingestor.organizations or urn in ingestor.organizations
    ]
    shards, new_orgs = list_shards(
        ingestor, reader, feed_index_locations(ingestor, selected), set(state.organizations)
    )
    result.shards_total = len(shards)
    documents = fetch_all(reader, [s.location for s in shards])
    with engine.begin() as conn, paused_gc():
        _ingest_documents(conn, ingestor, state, shards, documents, new_orgs, now, result)
    result.duration_s = time.perf_counter() - started
    return result


def _ingest_documents(
    conn: Connection,
    ingestor: IngestorConfig,
    state: _RegistryState,
    shards: list[ShardRef],
    documents: list[Document],
    new_orgs: dict[str, str | None],
    now: datetime,
    result: FeedResult,
) -> None:
    shard_table = table_of(FeedShard)
    stored_shards = {
        url: (digest, registry_digest, count)
        for url, digest, registry_digest, count in conn.execute(
            select(
                shard_table.c.url,
                shard_table.c.content_hash,
                shard_table.c.registry_hash,
                shard_table.c.item_count,
            ).where(shard_table.c.ingestor == ingestor.name)
        )
    }

    def registry_digest(org: str) -> str:
        return state.organizations.get(org, (FEED_ONLY_REGISTRY_HASH, None))[0]

    changed: list[tuple[ShardRef, Document]] = []
    for shard, document in zip(shards, documents, strict=True):
        stored = stored_shards.get(shard.location)
        if stored and stored[:2] == (document.sha256, registry_digest(shard.organization_urn)):
            result.shards_skipped += 1
            result.products_unchanged += stored[2]
        else:
            changed.append((shard, document))
    current = {s.location for s in shards}
    removed = [url for url in stored_shards if url not in current]
    result.shards_ingested = len(changed)
    result.shards_removed = len(removed)
    if not changed and not removed:
        return

    parsed = parse_shards([doc for _, doc in changed])
    _check_duplicates(changed, parsed)
    rewritten = {s.location for s, _ in changed} | set(removed)
    writer = _RowBuilder(conn, ingestor.name, state, now, result)
    writer.add_organizations(new_orgs)
    for (shard, _), items in zip(changed, parsed, strict=True):
        writer.add_shard(shard, items)
    writer.check_unchanged_shard_duplicates(rewritten)
    writer.write(rewritten)

    shard_rows = [
        {
            "ingestor": ingestor.name,
            "url": shard.location,
            "organization_urn": shard.organization_urn,
            "content_hash": doc.sha256,
            "registry_hash": registry_digest(shard.organization_urn),
            "item_count": sum(1 for item in items if item.kind != PRODUCT_GROUP),
            "ingested_at": now,
        }
        for (shard, doc), items in zip(changed, parsed, strict=True)
    ]
    bulk_upsert(conn, shard_table, shard_rows, preserve=())
    if removed:
        conn.execute(
            shard_table.delete().where(
                shard_table.c.ingestor == ingestor.name, shard_table.c.url.in_(removed)
            )
        )


def _check_duplicates(
    changed: list[tuple[ShardRef, Document]], parsed: list[list[ParsedItem]]
) -> None:
    seen: dict[str, str] = {}
    for (shard, _), items in zip(changed, parsed, strict=True):
        for item in items:
            where = f"{shard.location} {item.where}"
            first = seen.setdefault(item.urn, where)
            if first != where:
                raise CatalogInputError(
                    shard.location,
                    f"duplicate @id {item.urn} in one feed (first seen at {first})",
                    item=item.where,
                    field="item.@id",
                )


def _insert_or_upsert(
    conn: Connection,
    table: Table,
    new_rows: list[dict[str, Any]],
    changed_rows: list[dict[str, Any]],
) -> list[str]:
    """Write rows new to this ingestor with a plain bulk insert, the rest with an upsert.

    A "new" key may still exist under another ingestor (two feeds claiming one @id): those
    are taken over by the upsert path. Returns the keys that existed before.
    """
    key = table.primary_key.columns.values()[0].name
    taken_over = existing_keys(conn, table, key, [row[key] for row in new_rows])
    if taken_over:
        changed_rows = changed_rows + [row for row in new_rows if row[key] in taken_over]
        new_rows = [row for row in new_rows if row[key] not in taken_over]
    bulk_insert(conn, table, new_rows)
    bulk_upsert(conn, table, changed_rows)
    return [row[key] for row in changed_rows]


def _row_digest(item_digest: str, row: dict[str, Any]) -> str:
    """The item's own digest plus what ingestion resolved around it (brand, group, shard)."""
    resolved = "|".join(
        str(row.get(k) or "")
        for k in ("organization_urn", "brand_urn", "category_id", "product_group_urn", "shard_url")
    )
    return hashlib.sha256(f"{item_digest}|{resolved}".encode()).hexdigest()


class _RowBuilder:
    """Turns parsed items into table rows, resolving brands, categories and variant groups."""

    def __init__(
        self,
        conn: Connection,
        ingestor: str,
        state: _RegistryState,
        now: datetime,
        result: FeedResult,
    ) -> None:
        self.conn = conn
        self.ingestor = ingestor
        self.state = state
        self.now = now
        self.result = result
        self.org_rows: list[dict[str, Any]] = []
        self.brand_rows: dict[str, dict[str, Any]] = {}
        self.categories: dict[str, dict[str, Any]] = {}
        self.category_ids: dict[str, str] = {}
        self.groups: dict[str, tuple[dict[str, Any], str]] = {}
        self.products: list[tuple[dict[str, Any], list[dict[str, Any]], ParsedItem, str]] = []
        self.pending_links: list[tuple[dict[str, Any], ParsedItem, str]] = []
        products, groups = table_of(Product), table_of(ProductGroup)
        self.stored_products = {
            urn: (digest, shard, deleted is None)
            for urn, digest, shard, deleted in conn.execute(
                select(
                    products.c.urn,
                    products.c.content_hash,
                    products.c.shard_url,
                    products.c.deleted_at,
                ).where(products.c.ingestor == ingestor)
            )
        }
        self.stored_groups: dict[str, tuple[str, str, bool]] = {}
        self.group_urn_by_url: dict[str, str] = {}
        for urn, digest, shard, deleted, url in conn.execute(
            select(
                groups.c.urn,
                groups.c.content_hash,
                groups.c.shard_url,
                groups.c.deleted_at,
                groups.c.url,
            ).where(groups.c.ingestor == ingestor)
        ):
            self.stored_groups[urn] = (digest, shard, deleted is None)
            if url and deleted is None:
                self.group_urn_by_url[strip_query(url)] = urn

    # -- resolution ---------------------------------------------------------------------------

    def add_organizations(self, organizations: dict[str, str | None]) -> None:
        for urn, name in organizations.items():
            self.result.organizations_created_from_feed.append(urn)
            self.org_rows.append(
                {
                    "urn": urn,
                    "ingestor": self.ingestor,
                    "name": name or urn,
                    "description": None,
                    "url": None,
                    "logo": None,
                    "same_as": [],
                    "feed_url": None,
                    "seen_only_in_feed": True,
                    "content_hash": FEED_ONLY_REGISTRY_HASH,
                    "created_at": self.now,
                    "updated_at": self.now,
                }
            )

    def _brand(self, organization: str, item: ParsedItem) -> str | None:
        if item.brand_urn:
            if item.brand_urn not in self.state.brands_by_urn:
                self._new_brand(item.brand_urn, organization, item.brand_name or item.brand_urn)
            return item.brand_urn
        if not item.brand_name:
            return None
        key = name_key(item.brand_name)
        urn = self.state.brands_by_name.get((organization, key))
        if urn is None:
            urn = synthetic_brand_urn(organization, item.brand_name)
            self._new_brand(urn, organization, item.brand_name)
        return urn

    def _new_brand(self, urn: str, organization: str, name: str) -> None:
        """A brand named by the feed but not by the registry: keep it, marked as such."""
        self.state.brands_by_urn.add(urn)
        self.state.brands_by_name.setdefault((organization, name_key(name)), urn)
        self.result.brands_created_from_feed.append(f"{name} ({urn})")
        self.brand_rows[urn] = {
            "urn": urn,
            "organization_urn": organization,
            "name": name,
            "name_key": name_key(name),
            "logo": None,
            "seen_only_in_feed": True,
            "content_hash": FEED_ONLY_REGISTRY_HASH,
            "created_at": self.now,
            "updated_at": self.now,
        }

    def _category(self, path: str | None) -> str | None:
        if not path:
            return None
        category_id = self.category_ids.get(path)
        if category_id is None:
            rows = category_rows(path, self.now)
            if not rows:
                return None
            for row in rows:
                self.categories.setdefault(row["id"], row)
            category_id = self.category_ids[path] = rows[-1]["id"]
        return category_id

    # -- rows ---------------------------------------------------------------------------------

    def add_shard(self, shard: ShardRef, items: list[ParsedItem]) -> None:
        organization = shard.organization_urn
        for item in items:
            common = {
                "urn": item.urn,
                "ingestor": self.ingestor,
                "organization_urn": organization,
                "brand_urn": self._brand(organization, item),
                "category_id": self._category(item.category_path),
                "name": item.name,
                "description": item.description,
                "url": item.url,
                "media": item.media,
                "shard_url": shard.location,
            }
            if item.kind == PRODUCT_GROUP:
                row = {**common, "group_code": item.group_code, "varies_by": item.varies_by}
                self.groups[item.urn] = (row, item.digest)
                if item.url:
                    self.group_urn_by_url[strip_query(item.url)] = item.urn
                continue
            if common["brand_urn"] is None:
                self.result.products_without_brand += 1
            row = {
                **common,
                "sku": item.sku,
                "image": item.image,
                "variant_of": item.variant_of,
                "additional_properties": item.additional_properties,
                "product_group_urn": None,
            }
            offers = [
                {
                    "id": f"{item.urn}#offer-{n}",
                    "product_urn": item.urn,
                    "price": offer.price,
                    "price_currency": offer.price_currency,
                    "availability": offer.availability,
                    "inventory_level": offer.inventory_level,
                    "price_valid_until": offer.price_valid_until,
                    "price_specification": offer.price_specification,
                }
                for n, offer in enumerate(item.offers)
            ]
            self.products.append((row, offers, item, shard.location))

    def check_unchanged_shard_duplicates(self, rewritten: set[str]) -> None:
        """An @id in a changed shard that a skipped shard of the same feed still holds."""
        for row, _, item, location in self.products:
            stored = self.stored_products.get(row["urn"])
            if stored and stored[2] and stored[1] not in rewritten:
                raise CatalogInputError(
                    location,
                    f"duplicate @id {row['urn']} in one feed (also in unchanged shard {stored[1]})",
                    item=item.where,
                    field="item.@id",
                )

    def _link_variants(self) -> None:
        known_groups = {u for u, (_, _, alive) in self.stored_groups.items() if alive}
        known_groups.update(self.groups)
        for row, _, item, location in self.products:
            ref = item.variant_of
            if not ref:
                continue
            if ref in known_groups:
                row["product_group_urn"] = ref
                continue
            by_url = self.group_urn_by_url.get(strip_query(item.url)) if item.url else None
            if by_url:
                row["product_group_urn"] = by_url
                self.result.variants_linked_by_url += 1
            else:
                self.result.unlinked_variants.append(
                    {"product": item.urn, "isVariantOf": ref, "shard": location}
                )

    # -- write --------------------------------------------------------------------------------

    def write(self, rewritten: set[str]) -> None:
        self._link_variants()
        now, result = self.now, self.result
        new_groups, changed_groups = [], []
        for urn, (row, digest) in self.groups.items():
            row["content_hash"] = _row_digest(digest, row)
            stored = self.stored_groups.get(urn)
            full_row = {**row, "created_at": now, "updated_at": now, "deleted_at": None}
            if stored is None:
                result.groups_inserted += 1
                new_groups.append(full_row)
            elif stored[0] != row["content_hash"] or not stored[2]:
                result.groups_updated += 1
                changed_groups.append(full_row)
            else:
                result.groups_unchanged += 1

        new_products, changed_products, offer_rows = [], [], []
        for row, offers, item, _ in self.products:
            row["content_hash"] = _row_digest(item.digest, row)
            stored = self.stored_products.get(row["urn"])
            full_row = {**row, "created_at": now, "updated_at": now, "deleted_at": None}
            if stored is None:
                result.products_inserted += 1
                new_products.append(full_row)
            elif stored[0] != row["content_hash"] or not stored[2]:
                result.products_updated += 1
                changed_products.append(full_row)
            else:
                result.products_unchanged += 1
                continue
            offer_rows.extend(offers)

        seen_products = {row["urn"] for row, _, _, _ in self.products}
        gone_products = [
            urn
            for urn, (_, shard, alive) in self.stored_products.items()
            if alive and shard in rewritten and urn not in seen_products
        ]
        gone_groups = [
            urn
            for urn, (_, shard, alive) in self.stored_groups.items()
            if alive and shard in rewritten and urn not in self.groups
        ]

        conn = self.conn
        bulk_upsert(conn, table_of(Organization), self.org_rows, update=False)
        bulk_upsert(conn, table_of(Brand), list(self.brand_rows.values()), update=False)
        bulk_upsert(conn, table_of(Category), list(self.categories.values()), update=False)
        _insert_or_upsert(conn, table_of(ProductGroup), new_groups, changed_groups)
        replaced = _insert_or_upsert(conn, table_of(Product), new_products, changed_products)
        delete_by_keys(conn, table_of(Offer), "product_urn", replaced)
        result.offers_written = bulk_insert(conn, table_of(Offer), offer_rows)
        soft_delete = {"deleted_at": now, "updated_at": now}
        result.products_soft_deleted = update_by_keys(
            conn, table_of(Product), "urn", gone_products, soft_delete
        )
        result.groups_soft_deleted = update_by_keys(
            conn, table_of(ProductGroup), "urn", gone_groups, soft_delete
        )
        result.preview = [
            {
                "sku": row["sku"] or "",
                "name": row["name"],
                "price": f"{offers[0]['price']} {offers[0]['price_currency'] or ''}"
                if offers
                else "",
                "brand": row["brand_urn"] or "",
                "group": row["product_group_urn"] or "",
            }
            for row, offers, _, _ in self.products[:10]
        ]
