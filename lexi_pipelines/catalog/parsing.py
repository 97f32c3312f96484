"""Parsers for CMP JSON-LD: brand registries, feed indexes and feed shards.

Pure functions over bytes. They normalize what real feeds get wrong (list or prefixed
``@type``, padded ``propertyID``, a BOM, string prices, empty SKUs, naive timestamps) and raise
``CatalogInputError`` naming file, item and field for what cannot be repaired.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from lexi_pipelines.catalog.errors import CatalogInputError
from lexi_pipelines.catalog.sources import Document

PRODUCT, PRODUCT_GROUP = "Product", "ProductGroup"


@dataclass(frozen=True, slots=True)
class RegistryBrand:
    urn: str | None
    name: str
    logo: str | None


@dataclass(frozen=True, slots=True)
class RegistryOrganization:
    urn: str
    name: str
    description: str | None
    url: str | None
    logo: str | None
    same_as: list[str]
    feed_url: str | None
    categories: list[str]
    brands: list[RegistryBrand]
    raw: dict[str, Any] = field(repr=False)


@dataclass(frozen=True, slots=True)
class FeedIndex:
    organization_urn: str | None
    organization_name: str | None
    shard_urls: list[str]


@dataclass(slots=True)
class ParsedOffer:
    price: Decimal
    price_currency: str | None
    availability: str | None
    inventory_level: int | None
    price_valid_until: datetime | None
    price_specification: dict[str, Any] | None


@dataclass(slots=True)
class ParsedItem:
    """A ``Product`` or ``ProductGroup`` as found in a shard, before any linking."""

    kind: str
    urn: str
    where: str
    name: str
    description: str | None
    url: str | None
    brand_name: str | None
    brand_urn: str | None
    category_path: str | None
    media: list[Any]
    # Product only
    sku: str | None = None
    image: str | None = None
    variant_of: str | None = None
    additional_properties: list[Any] = field(default_factory=list)
    offers: list[ParsedOffer] = field(default_factory=list)
    # ProductGroup only
    group_code: str | None = None
    varies_by: list[Any] = field(default_factory=list)


def load_json(doc: Document) -> Any:
    content = doc.content
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    if not content.strip():
        raise CatalogInputError(doc.location, "empty file, expected JSON")
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        raise CatalogInputError(doc.location, f"malformed JSON: {exc}") from exc


def type_names(value: Any) -> list[str]:
    """``"schema:Product"``, ``["Product"]`` and ``"https://schema.org/Product"`` -> Product."""
    values = value if isinstance(value, list) else [value]
    names = []
    for entry in values:
        if isinstance(entry, str) and entry.strip():
            names.append(entry.strip().rsplit("/", 1)[-1].rsplit(":", 1)[-1].rsplit("#", 1)[-1])
    return names


def has_type(node: Any, expected: str) -> bool:
    return isinstance(node, dict) and expected in type_names(node.get("@type"))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def _url_of(value: Any) -> str | None:
    """An ``image``/``logo`` may be a URL, an ImageObject or a list of either."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("url") or value.get("contentUrl")
    return _text(value)


def _property_id(node: Any, wanted: str) -> str | None:
    """The ``value`` of the PropertyValue in ``identifier`` whose propertyID is ``wanted``."""
    candidates = node if isinstance(node, list) else [node]
    for candidate in candidates:
        if isinstance(candidate, dict):
            if (_text(candidate.get("propertyID")) or "").lower() == wanted.lower():
                return _text(candidate.get("value"))
        elif isinstance(candidate, str) and candidate.strip().startswith("urn:"):
            return candidate.strip()
    return None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# --- registry -------------------------------------------------------------------------------


def parse_registry(doc: Document) -> list[RegistryOrganization]:
    data = load_json(doc)
    nodes = data if isinstance(data, list) else [data]
    if isinstance(data, dict) and "@graph" in data:
        nodes = _as_list(data["@graph"])
    organizations: list[RegistryOrganization] = []
    seen: dict[str, int] = {}
    for index, node in enumerate(nodes, start=1):
        where = f"organization {index}"
        if not isinstance(node, dict):
            raise CatalogInputError(doc.location, "expected a JSON object", item=where)
        if not has_type(node, "Organization"):
            raise CatalogInputError(
                doc.location,
                f"expected 'Organization', got {node.get('@type')!r}",
                item=where,
                field="@type",
            )
        name = _text(node.get("name"))
        if name is None:
            raise CatalogInputError(doc.location, "missing required field", item=where, field="name")
        where = f"organization {index} ({name})"
        urn = _property_id(node.get("identifier"), "cmp:orgId") or _text(node.get("cmp:orgId"))
        if urn is None:
            raise CatalogInputError(
                doc.location,
                "missing cmp:orgId PropertyValue",
                item=where,
                field="identifier",
            )
        if urn in seen:
            raise CatalogInputError(
                doc.location,
                f"duplicate organization {urn} (also organization {seen[urn]})",
                item=where,
                field="identifier",
            )
        seen[urn] = index
        brands = []
        for b_index, brand in enumerate(_as_list(node.get("brand")), start=1):
            brand_name = _text(brand.get("name")) if isinstance(brand, dict) else _text(brand)
            if brand_name is None:
                raise CatalogInputError(
                    doc.location, "brand without a name", item=where, field=f"brand[{b_index}].name"
                )
            brand_urn = None
            if isinstance(brand, dict):
                brand_urn = _property_id(brand.get("identifier"), "cmp:brandId")
                brand_urn = brand_urn or _text(brand.get("cmp:brandId"))
            logo = _url_of(brand.get("logo")) if isinstance(brand, dict) else None
            brands.append(RegistryBrand(urn=brand_urn, name=brand_name, logo=logo))
        legacy_brand_urn = _text(node.get("cmp:brandId"))
        if legacy_brand_urn and not any(b.urn == legacy_brand_urn for b in brands) and brands:
            brands[0] = RegistryBrand(legacy_brand_urn, brands[0].name, brands[0].logo)
        feed = node.get("cmp:productFeed")
        feed_url = _text(feed.get("url")) if isinstance(feed, dict) else _text(feed)
        organizations.append(
            RegistryOrganization(
                urn=urn,
                name=name,
                description=_text(node.get("description")),
                url=_text(node.get("url")),
                logo=_url_of(node.get("logo")),
                same_as=[s for s in (_text(v) for v in _as_list(node.get("sameAs"))) if s],
                feed_url=feed_url,
                categories=[c for c in (_text(v) for v in _as_list(node.get("cmp:category"))) if c],
                brands=brands,
                raw=node,
            )
        )
    if not organizations:
        raise CatalogInputError(doc.location, "no Organization found")
    return organizations


# --- feed index -----------------------------------------------------------------------------


def parse_feed_index(doc: Document) -> list[FeedIndex]:
    data = load_json(doc)
    nodes = data if isinstance(data, list) else [data]
    indexes = []
    for index, node in enumerate(nodes, start=1):
        where = f"index {index}"
        if not isinstance(node, dict) or not has_type(node, "ProductFeedIndex"):
            got = node.get("@type") if isinstance(node, dict) else type(node).__name__
            raise CatalogInputError(
                doc.location, f"expected 'ProductFeedIndex', got {got!r}", item=where, field="@type"
            )
        org_urn = _text(node.get("orgid"))
        org_name = None
        organization = node.get("organization")
        if isinstance(organization, dict):
            org_urn = org_urn or _text(organization.get("urn"))
            org_name = _text(organization.get("name"))
        shards = node.get("shards")
        if not isinstance(shards, list):
            raise CatalogInputError(
                doc.location, "missing or not a list", item=where, field="shards"
            )
        urls = []
        for s_index, shard in enumerate(shards):
            url = _text(shard.get("url")) if isinstance(shard, dict) else _text(shard)
            if url is None:
                raise CatalogInputError(
                    doc.location, "missing shard url", item=where, field=f"shards[{s_index}].url"
                )
            urls.append(url)
        indexes.append(FeedIndex(org_urn, org_name, urls))
    return indexes


# --- shards ---------------------------------------------------------------------------------


def parse_shard(doc: Document) -> list[ParsedItem]:
    data = load_json(doc)
    if not has_type(data, "ItemList"):
        got = data.get("@type") if isinstance(data, dict) else type(data).__name__
        raise CatalogInputError(doc.location, f"expected 'ItemList', got {got!r}", field="@type")
    elements = data.get("itemListElement")
    if not isinstance(elements, list):
        raise CatalogInputError(doc.location, "missing or not a list", field="itemListElement")
    return [_parse_element(doc.location, index, el) for index, el in enumerate(elements, start=1)]


def _parse_element(location: str, index: int, element: Any) -> ParsedItem:
    where = f"item {index}"
    if not isinstance(element, dict):
        raise CatalogInputError(location, "expected a ListItem object", item=where)
    node = element.get("item", element) if has_type(element, "ListItem") else element
    if not isinstance(node, dict):
        raise CatalogInputError(location, "expected an object", item=where, field="item")
    types = type_names(node.get("@type"))
    kind = PRODUCT if PRODUCT in types else PRODUCT_GROUP if PRODUCT_GROUP in types else None
    if kind is None:
        raise CatalogInputError(
            location,
            f"expected 'Product' or 'ProductGroup', got {node.get('@type')!r}",
            item=where,
            field="item.@type",
        )
    urn = _text(node.get("@id"))
    if urn is None:
        raise CatalogInputError(location, "missing required field", item=where, field="item.@id")
    where = f"item {index} ({urn})"
    name = _text(node.get("name"))
    if name is None:
        raise CatalogInputError(location, "missing required field", item=where, field="item.name")
    brand = node.get("brand")
    if isinstance(brand, list):
        brand = brand[0] if brand else None
    brand_name = _text(brand.get("name")) if isinstance(brand, dict) else _text(brand)
    brand_urn = None
    if isinstance(brand, dict):
        brand_urn = _property_id(brand.get("identifier"), "cmp:brandId") or _text(brand.get("@id"))
    category = node.get("category")
    if isinstance(category, list):
        category = " > ".join(c for c in (_text(v) for v in category) if c)
    item = ParsedItem(
        kind=kind,
        urn=urn,
        where=where,
        name=name,
        description=_text(node.get("description")),
        url=_text(node.get("url")),
        brand_name=brand_name,
        brand_urn=brand_urn if brand_urn and brand_urn.startswith("urn:") else None,
        category_path=_text(category),
        media=_as_list(node.get("@cmp:media") or node.get("cmp:media")),
    )
    if kind == PRODUCT_GROUP:
        item.group_code = _text(node.get("productGroupID"))
        item.varies_by = [v for v in (_text(x) for x in _as_list(node.get("variesBy"))) if v]
        return item
    item.sku = _text(node.get("sku"))
    item.image = _url_of(node.get("image"))
    variant = node.get("isVariantOf")
    item.variant_of = _text(variant.get("@id")) if isinstance(variant, dict) else _text(variant)
    item.additional_properties = _as_list(node.get("additionalProperty"))
    item.offers = [
        _parse_offer(location, where, f"item.offers[{o_index}]", offer)
        for o_index, offer in enumerate(_as_list(node.get("offers")))
    ]
    return item


def _parse_offer(location: str, where: str, path: str, node: Any) -> ParsedOffer:
    if not isinstance(node, dict):
        raise CatalogInputError(location, "expected an Offer object", item=where, field=path)
    price = _decimal(location, where, f"{path}.price", node.get("price"), required=True)
    assert price is not None
    spec = node.get("priceSpecification")
    if isinstance(spec, dict):
        _decimal(location, where, f"{path}.priceSpecification.price", spec.get("price"))
    inventory = node.get("inventoryLevel")
    level = inventory.get("value") if isinstance(inventory, dict) else inventory
    inventory_level = None
    if level is not None and level != "":
        level_value = _decimal(location, where, f"{path}.inventoryLevel.value", level)
        inventory_level = int(level_value) if level_value is not None else None
    return ParsedOffer(
        price=price,
        price_currency=(_text(node.get("priceCurrency")) or "").upper() or None,
        availability=_text(node.get("availability")),
        inventory_level=inventory_level,
        price_valid_until=_timestamp(
            location, where, f"{path}.priceValidUntil", node.get("priceValidUntil")
        ),
        price_specification=spec if isinstance(spec, dict) else None,
    )


def _decimal(
    location: str, where: str, path: str, value: Any, *, required: bool = False
) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise CatalogInputError(location, "missing required field", item=where, field=path)
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise CatalogInputError(location, f"not a number: {value!r}", item=where, field=path)
    try:
        number = Decimal(str(value).strip().replace(",", "")) if isinstance(value, str) else (
            Decimal(value) if isinstance(value, int) else Decimal(repr(value))
        )
    except InvalidOperation as exc:
        raise CatalogInputError(location, f"not a number: {value!r}", item=where, field=path) from exc
    if not number.is_finite():
        raise CatalogInputError(location, f"not a finite number: {value!r}", item=where, field=path)
    if number < 0:
        raise CatalogInputError(location, f"negative value {value!r}", item=where, field=path)
    return number


def _timestamp(location: str, where: str, path: str, value: Any) -> datetime | None:
    text = _text(value)
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(text), datetime.min.time())
        except ValueError as exc:
            raise CatalogInputError(
                location, f"not an ISO-8601 date-time: {text!r}", item=where, field=path
            ) from exc
    # Producers often omit the zone; the CMP spec's timestamps are UTC.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
