"""Turning one parsed shard into table rows: the per-item work, run in parse workers.

Everything that depends only on the shard and its organization happens here: brand
resolution by identifier or name, category ids, the content digest and the encoding of rows
(PostgreSQL COPY text, or value tuples for other databases). What depends on other shards,
linking variants to their product group, is left to the caller: the group column is the last
one of a product row so it can be appended.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lexi_pipelines.catalog.locations import Document, strip_query
from lexi_pipelines.catalog.naming import category_rows, name_key, synthetic_brand_urn
from lexi_pipelines.catalog.parsing import PRODUCT_GROUP, ParsedItem, parse_shard
from lexi_pipelines.common.memory import paused_gc
from lexi_pipelines.db.copy_text import NULL, copy_field, copy_line, timestamp_text

# Column orders of the encoded rows. Product rows end with ``product_group_urn``: the group
# the item names, which the writer replaces when it links the variant to another one.
PRODUCT_COLUMNS = (
    "urn", "ingestor", "organization_urn", "brand_urn", "category_id", "variant_of", "sku",
    "name", "description", "url", "image", "additional_properties", "media", "shard_url",
    "content_hash", "created_at", "updated_at", "deleted_at",
)  # fmt: skip
PRODUCT_COLUMNS_WITH_GROUP = (*PRODUCT_COLUMNS, "product_group_urn")
GROUP_COLUMNS = (
    "urn", "ingestor", "organization_urn", "brand_urn", "category_id", "group_code", "name",
    "description", "url", "varies_by", "media", "shard_url", "content_hash", "created_at",
    "updated_at", "deleted_at",
)  # fmt: skip
OFFER_COLUMNS = (
    "product_urn", "position", "price", "price_currency", "availability", "inventory_level",
    "price_valid_until", "price_specification",
)  # fmt: skip


@dataclass(frozen=True)
class BrandDirectory:
    """The brands an organization already has, for resolving feed brands."""

    urns: frozenset[str]
    by_name: dict[str, str]  # name key -> brand URN


@dataclass(frozen=True)
class ShardTask:
    document: Document
    ingestor: str
    organization_urn: str
    brands: BrandDirectory
    now: datetime
    copy_text: bool  # encode rows as PostgreSQL COPY text instead of value tuples


@dataclass
class PreparedShard:
    """One shard's rows, column-wise so it crosses a process boundary cheaply.

    With COPY text, the rows of all products and of all offers each travel as one string: the
    writer sends them on as they are unless it has to handle products one by one.
    """

    location: str
    product_urns: list[str] = field(default_factory=list)
    product_positions: list[int] = field(default_factory=list)  # item numbers in the shard
    product_digests: list[str] = field(default_factory=list)
    variant_of: list[str | None] = field(default_factory=list)
    url_keys: list[str | None] = field(default_factory=list)
    # COPY lines of every product (str), or a value tuple per product
    product_rows: Any = field(default_factory=list)
    # COPY lines of every offer (str), or per product a list of value tuples
    offer_rows: Any = field(default_factory=list)
    offer_counts: list[int] = field(default_factory=list)  # offers per product
    group_urns: list[str] = field(default_factory=list)
    group_positions: list[int] = field(default_factory=list)
    group_digests: list[str] = field(default_factory=list)
    group_url_keys: list[str | None] = field(default_factory=list)
    group_rows: list[Any] = field(default_factory=list)  # complete COPY line or tuple
    new_brands: dict[str, tuple[str, str]] = field(default_factory=dict)  # urn -> (org, name)
    categories: dict[str, dict[str, Any]] = field(default_factory=dict)
    products_without_brand: int = 0
    preview: list[dict[str, Any]] = field(default_factory=list)

    @property
    def item_count(self) -> int:
        return len(self.product_urns)

    def product_row_list(self) -> list[Any]:
        """One row per product: a newline-terminated COPY line or a value tuple."""
        if isinstance(self.product_rows, str):
            # Not splitlines(): escaped COPY text may still hold other line separators.
            return [f"{line}\n" for line in self.product_rows.split("\n")[:-1]]
        return list(self.product_rows)

    def offer_row_list(self) -> list[Any]:
        """Per product, its offers: COPY lines joined, or a list of value tuples."""
        if not isinstance(self.offer_rows, str):
            return list(self.offer_rows)
        lines = self.offer_rows.split("\n")
        grouped, start = [], 0
        for count in self.offer_counts:
            grouped.append("".join(f"{line}\n" for line in lines[start : start + count]))
            start += count
        return grouped


def prepare_shard(task: ShardTask) -> PreparedShard:
    with paused_gc():
        return _prepare(task, parse_shard(task.document))


def _prepare(task: ShardTask, items: list[ParsedItem]) -> PreparedShard:
    out = PreparedShard(location=task.document.location)
    organization, now = task.organization_urn, task.now
    # value and its COPY text
    category_ids: dict[str | None, tuple[str | None, str]] = {}
    brand_urns: dict[tuple[str | None, str | None], tuple[str | None, str]] = {}
    # JSON forbids raw control characters in strings, so without a backslash in the document
    # no parsed string (nor its JSON re-encoding) holds a character COPY text must escape:
    # lines are then joined as they are, without per-field checks.
    plain = task.copy_text and b"\\" not in task.document.content
    ingestor, location = copy_field(task.ingestor), copy_field(out.location)
    org_text, now_text = copy_field(organization), copy_field(now)
    product_head = f"{ingestor}\t{org_text}\t"
    product_tail = f"\t{location}\t"
    stamps = f"\t{now_text}\t{now_text}\t{NULL}\t"
    product_lines: list[Any] = []
    offer_lines: list[Any] = []
    for position, item in enumerate(items, start=1):
        # Feeds repeat a handful of brands thousands of times: resolve each once.
        brand_key = (item.brand_urn, item.brand_name)
        if brand_key in brand_urns:
            brand_urn, brand_text = brand_urns[brand_key]
        else:
            brand_urn = _resolve_brand(task, item, out)
            # Registry URNs come from another document: escaped like any foreign text.
            brand_text = copy_field(brand_urn)
            brand_urns[brand_key] = (brand_urn, brand_text)
        path = item.category_path
        if path in category_ids:
            category_id, category_text = category_ids[path]
        else:
            rows = category_rows(path, now) if path else []
            for row in rows:
                out.categories.setdefault(row["id"], row)
            category_id = rows[-1]["id"] if rows else None
            category_text = copy_field(category_id)
            category_ids[path] = (category_id, category_text)
        # What ingestion resolved joins the item's own digest: a brand newly matched by
        # name, or an item moved to another shard, is a change worth writing.
        digest = hashlib.sha256(
            f"{item.digest}|{organization}|{brand_urn}|{category_id}|{out.location}".encode()
        ).hexdigest()
        url_key = strip_query(item.url) if item.url else None
        if item.kind == PRODUCT_GROUP:
            out.group_urns.append(item.urn)
            out.group_positions.append(position)
            out.group_digests.append(digest)
            out.group_url_keys.append(url_key)
            values: tuple[Any, ...] = (
                item.urn, task.ingestor, organization, brand_urn, category_id, item.group_code,
                item.name, item.description, item.url, item.varies_by, item.media,
                out.location, digest, now, now, None,
            )  # fmt: skip
            out.group_rows.append(copy_line(values) + "\n" if task.copy_text else values)
            continue
        if brand_urn is None:
            out.products_without_brand += 1
        out.product_urns.append(item.urn)
        out.product_positions.append(position)
        out.product_digests.append(digest)
        out.variant_of.append(item.variant_of)
        out.url_keys.append(url_key)
        out.offer_counts.append(len(item.offers))
        if plain:
            # Text fields are None or non-empty, so "or NULL" is exact.
            product_lines.append(
                f"{item.urn}\t{product_head}{brand_text}\t{category_text}\t"
                f"{item.variant_of or NULL}\t{item.sku or NULL}\t{item.name}\t"
                f"{item.description or NULL}\t{item.url or NULL}\t{item.image or NULL}\t"
                f"{item.additional_properties}\t{item.media}{product_tail}{digest}{stamps}"
                f"{item.variant_of or NULL}\n"
            )
            offer_lines.extend(
                [
                    f"{item.urn}\t{n}\t{o.price}\t{o.price_currency or NULL}\t"
                    f"{o.availability or NULL}\t"
                    f"{NULL if o.inventory_level is None else o.inventory_level}\t"
                    f"{timestamp_text(o.price_valid_until) if o.price_valid_until else NULL}\t"
                    f"{o.price_specification or NULL}\n"
                    for n, o in enumerate(item.offers)
                ]
            )
        else:
            values = (
                item.urn, task.ingestor, organization, brand_urn, category_id, item.variant_of,
                item.sku, item.name, item.description, item.url, item.image,
                item.additional_properties, item.media, out.location, digest, now, now, None,
                # product_group_urn: the group named, unless the writer links another
                item.variant_of,
            )  # fmt: skip
            offers = [(item.urn, n, *offer) for n, offer in enumerate(item.offers)]
            if task.copy_text:
                product_lines.append(copy_line(values) + "\n")
                offer_lines.extend([copy_line(o) + "\n" for o in offers])
            else:
                product_lines.append(values)
                offer_lines.append(offers)
        if len(out.preview) < 10:
            first = item.offers[0] if item.offers else None
            out.preview.append(
                {
                    "sku": item.sku or "",
                    "name": item.name,
                    "price": f"{first.price} {first.price_currency or ''}" if first else "",
                    "brand": brand_urn or "",
                }
            )
    if task.copy_text:
        out.product_rows, out.offer_rows = "".join(product_lines), "".join(offer_lines)
    else:
        out.product_rows, out.offer_rows = product_lines, offer_lines
    return out


def _resolve_brand(task: ShardTask, item: ParsedItem, out: PreparedShard) -> str | None:
    organization = task.organization_urn
    if item.brand_urn:
        if item.brand_urn not in task.brands.urns:
            out.new_brands.setdefault(
                item.brand_urn, (organization, item.brand_name or item.brand_urn)
            )
        return item.brand_urn
    if not item.brand_name:
        return None
    urn = task.brands.by_name.get(name_key(item.brand_name))
    if urn is None:
        # Named by the feed, absent from the registry: kept under the organization.
        urn = synthetic_brand_urn(organization, item.brand_name)
        out.new_brands.setdefault(urn, (organization, item.brand_name))
    return urn
