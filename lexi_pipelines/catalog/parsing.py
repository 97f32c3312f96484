"""Parsers for CMP JSON-LD: brand registries, feed indexes and feed shards.

Pure functions over bytes. They normalize what real feeds get wrong (list or prefixed
``@type``, padded ``propertyID``, a BOM, string prices, empty SKUs, naive timestamps) and raise
``CatalogInputError`` naming file, item and field for what cannot be repaired.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, NamedTuple

import orjson

from lexi_pipelines.catalog.errors import CatalogInputError
from lexi_pipelines.catalog.locations import Document

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


class ParsedOffer(NamedTuple):
    price: Decimal
    price_currency: str | None
    availability: str | None
    inventory_level: int | None
    price_valid_until: datetime | None
    price_specification: str | None  # JSON text


class ParsedItem(NamedTuple):
    """A ``Product`` or ``ProductGroup`` as found in a shard, before any linking.

    Nested JSON (media, properties) is kept as serialized text: the rows go to the database
    as such, and plain strings cross process boundaries far cheaper than nested objects.
    """

    kind: str
    urn: str
    where: str
    name: str
    description: str | None
    url: str | None
    brand_name: str | None
    brand_urn: str | None
    category_path: str | None
    media: str
    # Product only
    sku: str | None
    image: str | None
    variant_of: str | None
    additional_properties: str
    offers: tuple[ParsedOffer, ...]
    # ProductGroup only
    group_code: str | None
    varies_by: str
    # sha256 of the normalized content: equal digests mean nothing worth writing changed.
    digest: str


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
    if type(value) is str and value.isalpha():
        return [value]
    values = value if isinstance(value, list) else [value]
    names = []
    for entry in values:
        if isinstance(entry, str) and entry.strip():
            names.append(entry.strip().rsplit("/", 1)[-1].rsplit(":", 1)[-1].rsplit("#", 1)[-1])
    return names


def has_type(node: Any, expected: str) -> bool:
    return isinstance(node, dict) and expected in type_names(node.get("@type"))


def _text(value: Any) -> str | None:
    if type(value) is str:
        value = value.strip()
        return value or None
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
            raise CatalogInputError(
                doc.location, "missing required field", item=where, field="name"
            )
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
        for b_index, brand in enumerate(_as_list(node.get("brand"))):
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
    if not indexes:
        # An index truncated to [] must not read as "every shard was removed".
        raise CatalogInputError(doc.location, "no ProductFeedIndex found")
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
    # Hot path (one call per product): plain dict access, no per-field helpers where the
    # common well-formed case can be decided inline.
    where = f"item {index}"
    if type(element) is not dict:
        raise CatalogInputError(location, "expected a ListItem object", item=where)
    node = element.get("item", element) if "item" in element else element
    if type(node) is not dict:
        raise CatalogInputError(location, "expected an object", item=where, field="item")
    raw_type = node.get("@type")
    if raw_type in (PRODUCT, PRODUCT_GROUP):
        kind = raw_type
    else:
        types = type_names(raw_type)
        kind = PRODUCT if PRODUCT in types else PRODUCT_GROUP if PRODUCT_GROUP in types else ""
        if not kind:
            raise CatalogInputError(
                location,
                f"expected 'Product' or 'ProductGroup', got {raw_type!r}",
                item=where,
                field="item.@type",
            )
    urn = _text(node.get("@id"))
    if urn is None:
        raise CatalogInputError(location, "missing required field", item=where, field="item.@id")
    where = item_where(index, urn)
    name = _text(node.get("name"))
    if name is None:
        raise CatalogInputError(location, "missing required field", item=where, field="item.name")
    brand = node.get("brand")
    if type(brand) is list:
        brand = brand[0] if brand else None
    brand_urn = None
    if type(brand) is dict:
        brand_name = _text(brand.get("name"))
        if "identifier" in brand or "@id" in brand:
            brand_urn = _property_id(brand.get("identifier"), "cmp:brandId") or _text(
                brand.get("@id")
            )
            if brand_urn and not brand_urn.startswith("urn:"):
                brand_urn = None
    else:
        brand_name = _text(brand)
    category = node.get("category")
    if type(category) is list:
        category = " > ".join(c for c in (_text(v) for v in category) if c)
    common = (
        kind,
        urn,
        where,
        name,
        _text(node.get("description")),
        _text(node.get("url")),
        brand_name,
        brand_urn,
        _text(category),
        _json_text(node.get("@cmp:media") or node.get("cmp:media")),
    )
    if kind == PRODUCT_GROUP:
        varies_by = [v for v in (_text(x) for x in _as_list(node.get("variesBy"))) if v]
        specific: tuple[Any, ...] = (
            None, None, None, "[]", (), _text(node.get("productGroupID")), _json_text(varies_by)
        )  # fmt: skip
        digested: tuple[Any, ...] = specific[5:]
    else:
        variant = node.get("isVariantOf")
        raw_offers = node.get("offers")
        if type(raw_offers) is dict:  # the usual single Offer
            offers: tuple[ParsedOffer, ...] = (_parse_offer(location, where, 0, raw_offers),)
        else:
            offers = tuple(
                _parse_offer(location, where, o_index, offer)
                for o_index, offer in enumerate(_as_list(raw_offers))
            )
        specific = (
            _text(node.get("sku")),
            _url_of(node.get("image")),
            _text(variant.get("@id")) if type(variant) is dict else _text(variant),
            _json_text(node.get("additionalProperty")),
            offers,
            None,
            "[]",
        )
        # The offers as given: plain JSON hashes far faster than Decimals and datetimes.
        digested = (*specific[:4], raw_offers)
    # The position ("where") is left out: moving an item within the feed changes nothing.
    return ParsedItem._make((*common, *specific, _digest((*common[:2], *common[3:], *digested))))


def item_where(index: int, urn: str) -> str:
    """How errors name an item: its number in the shard and its @id."""
    return f"item {index} ({urn})"


def _digest(values: tuple[Any, ...]) -> str:
    return hashlib.sha256(orjson.dumps(values)).hexdigest()


def _json_text(value: Any) -> str:
    if value is None:
        return "[]"
    return orjson.dumps(value if type(value) is list else [value]).decode()


def _parse_offer(location: str, where: str, index: int, node: Any) -> ParsedOffer:
    path = f"item.offers[{index}]"
    if type(node) is not dict:
        raise CatalogInputError(location, "expected an Offer object", item=where, field=path)
    price = node.get("price")
    # The common case, a non-negative JSON number, skips the general conversion.
    if type(price) is float and 0 <= price < _PRICE_BOUND:
        number = Decimal(repr(price))
    else:
        parsed = _decimal(location, where, path, "price", price, maximum=_MAX_PRICE)
        if parsed is None:
            raise CatalogInputError(
                location, "missing required field", item=where, field=f"{path}.price"
            )
        number = parsed
    spec = node.get("priceSpecification")
    spec_text = None
    if type(spec) is dict:
        spec_price = spec.get("price")
        if not (type(spec_price) is float and spec_price >= 0):
            _decimal(location, where, path, "priceSpecification.price", spec_price)
        spec_text = orjson.dumps(spec).decode()
    inventory = node.get("inventoryLevel")
    level = inventory.get("value") if type(inventory) is dict else inventory
    if type(level) is not int or not 0 <= level <= _MAX_INVENTORY:
        level_value = _decimal(
            location, where, path, "inventoryLevel.value", level, maximum=_MAX_INVENTORY
        )
        level = int(level_value) if level_value is not None else None
    currency = node.get("priceCurrency")
    valid_until = node.get("priceValidUntil")
    return ParsedOffer(
        number,
        currency.strip().upper() or None if type(currency) is str else None,
        _text(node.get("availability")),
        level,
        _timestamp(location, where, path, valid_until) if valid_until else None,
        spec_text,
    )


# What the columns hold (offers.price NUMERIC(18, 4), offers.inventory_level INTEGER): a
# larger value would fail the database write with an error that names no item.
_MAX_PRICE = Decimal("99999999999999.9999")
_PRICE_BOUND = 1e14
_MAX_INVENTORY = 2**31 - 1


def _decimal(
    location: str, where: str, path: str, name: str, value: Any, *, maximum: Any = None
) -> Decimal | None:
    """A non-negative finite number from a JSON number or numeric string; None when absent."""
    if value is None or (type(value) is str and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise CatalogInputError(
            location, f"not a number: {value!r}", item=where, field=f"{path}.{name}"
        )
    try:
        if isinstance(value, str):
            number = Decimal(value.strip().replace(",", ""))
        else:
            number = Decimal(value) if isinstance(value, int) else Decimal(repr(value))
    except InvalidOperation as exc:
        raise CatalogInputError(
            location, f"not a number: {value!r}", item=where, field=f"{path}.{name}"
        ) from exc
    if not number.is_finite():
        raise CatalogInputError(
            location, f"not a finite number: {value!r}", item=where, field=f"{path}.{name}"
        )
    if number < 0:
        raise CatalogInputError(
            location, f"negative value {value!r}", item=where, field=f"{path}.{name}"
        )
    if maximum is not None and number > maximum:
        raise CatalogInputError(
            location,
            f"value {value!r} is above the largest storable {maximum}",
            item=where,
            field=f"{path}.{name}",
        )
    return number


@lru_cache(maxsize=4096)
def _parse_timestamp(text: str) -> datetime:
    """Feeds repeat a handful of validity dates; cache their parsing."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = datetime.combine(date.fromisoformat(text), datetime.min.time())
    # Producers often omit the zone; the CMP spec's timestamps are UTC.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _timestamp(location: str, where: str, path: str, value: Any) -> datetime | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return _parse_timestamp(text)
    except ValueError as exc:
        raise CatalogInputError(
            location,
            f"not an ISO-8601 date-time: {text!r}",
            item=where,
            field=f"{path}.priceValidUntil",
        ) from exc
