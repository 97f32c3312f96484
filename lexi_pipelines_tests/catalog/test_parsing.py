"""Parsers of CMP JSON-LD: spec examples, tolerated quirks, rejected input, item digests."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from lexi_pipelines.catalog.errors import CatalogInputError
from lexi_pipelines.catalog.locations import Document
from lexi_pipelines.catalog.parsing import (
    PRODUCT,
    PRODUCT_GROUP,
    FeedIndex,
    ParsedItem,
    RegistryBrand,
    parse_feed_index,
    parse_registry,
    parse_shard,
)

SPEC_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "cmp"
LOCATION = "/feeds/test/feed-000.json"
BOM = b"\xef\xbb\xbf"
ORG_URN = "urn:cmp:orgid:11111111-2222-3333-4444-555555555555"
ORG_URN_2 = "urn:cmp:orgid:66666666-7777-8888-9999-000000000000"
BRAND_URN = "urn:cmp:brand:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
MISSING = object()


def spec_document(name: str) -> Document:
    path = SPEC_DIR / name
    if not path.is_file():
        pytest.skip(f"CMP spec example {path} not found ({SPEC_DIR.parents[1]} is absent)")
    return Document(str(path), path.read_bytes())


def doc(value: Any, *, prefix: bytes = b"") -> Document:
    return Document(LOCATION, prefix + json.dumps(value).encode())


def product(**fields: Any) -> dict[str, Any]:
    """A valid Product node; ``field=MISSING`` removes a field."""
    node: dict[str, Any] = {
        "@type": "Product",
        "@id": "urn:cmp:sku:TEST-1",
        "name": "Test Product",
        "sku": "TEST-1",
        "offers": {"@type": "Offer", "price": 10.5, "priceCurrency": "USD"},
    }
    node.update(fields)
    return {key: value for key, value in node.items() if value is not MISSING}


def offer(**fields: Any) -> dict[str, Any]:
    node: dict[str, Any] = {"@type": "Offer", "price": 10.5, "priceCurrency": "USD"}
    node.update(fields)
    return {key: value for key, value in node.items() if value is not MISSING}


def item_list(*nodes: dict[str, Any]) -> dict[str, Any]:
    return {
        "@type": "ItemList",
        "itemListElement": [
            {"@type": "ListItem", "position": position, "item": node}
            for position, node in enumerate(nodes, start=1)
        ],
    }


def parse_one(node: dict[str, Any]) -> ParsedItem:
    items = parse_shard(doc(item_list(node)))
    assert len(items) == 1
    return items[0]


def organization(
    name: str = "Test Org", urn: str | None = ORG_URN, **fields: Any
) -> dict[str, Any]:
    node: dict[str, Any] = {"@type": "Organization", "name": name}
    if urn is not None:
        node["identifier"] = {"@type": "PropertyValue", "propertyID": "cmp:orgId", "value": urn}
    node.update(fields)
    return node


def feed_index(**fields: Any) -> dict[str, Any]:
    node: dict[str, Any] = {
        "@type": "ProductFeedIndex",
        "orgid": ORG_URN,
        "shards": [{"url": "feed-000.json"}],
    }
    node.update(fields)
    return {key: value for key, value in node.items() if value is not MISSING}


# --- spec examples --------------------------------------------------------------------------


def test_spec_registry_example() -> None:
    organizations = parse_registry(spec_document("brand-registry.example.jsonld"))

    assert len(organizations) == 1
    org = organizations[0]
    assert org.urn == "urn:cmp:orgid:987fcdeb-51a2-43d1-b789-987654321000"
    assert org.name == "TechFlow Solutions"
    assert org.url == "https://techflowsolutions.com"
    assert org.logo == "https://example.com/logos/techflow-logo.png"
    assert org.description is not None and org.description.startswith("TechFlow Solutions is")
    assert org.brands == [
        RegistryBrand(
            urn="urn:cmp:brand:987fcdeb-51a2-43d1-b789-987654321000",
            name="TechFlow",
            logo="https://example.com/logos/techflow-brand-logo.png",
        )
    ]
    assert org.categories == ["technology", "software", "digital-services"]
    assert org.feed_url == "https://techflowsolutions.com/.well-known/cmp/feed-index.json"
    assert len(org.same_as) == 3
    assert org.raw["name"] == "TechFlow Solutions"


def test_spec_registry_example_brands_accepts_non_hex_urns() -> None:
    # The example's UUIDs contain a 'g'; URNs are opaque strings to the parser.
    (org,) = parse_registry(spec_document("registry-example-brands.json"))

    assert org.urn == "urn:cmp:orgid:22eefabc-7b1d-6d29-9e12-22g812190dd3"
    assert org.name == "EcoStyle Living"
    assert [b.urn for b in org.brands] == ["urn:cmp:brand:22eefabc-7b1d-6d29-9e12-22g812190dd3"]
    assert [b.name for b in org.brands] == ["EcoStyle"]
    assert org.categories == ["home-goods", "sustainable-living", "eco-friendly"]
    assert org.feed_url == (
        "https://openfeed.s3.us-east-2.amazonaws.com/j01pdw-th.myshopify.com/feed.json"
    )


def test_spec_feed_shard_example() -> None:
    items = parse_shard(spec_document("product-feed-shard.example.jsonld"))

    assert [item.kind for item in items] == [PRODUCT, PRODUCT_GROUP, PRODUCT]
    headphones, iphone_group, iphone = items

    assert headphones.urn == "urn:cmp:sku:WH-1000XM5-BLACK"
    assert headphones.where == "item 1 (urn:cmp:sku:WH-1000XM5-BLACK)"
    assert headphones.sku == "WH-1000XM5-BLACK"
    assert headphones.brand_name == "Sony"
    assert headphones.brand_urn is None
    assert headphones.category_path == "Electronics > Audio > Headphones"
    assert headphones.image == "https://example.com/images/wh1000xm5-main.jpg"
    assert headphones.variant_of == "urn:cmp:product:WH-1000XM5"
    (headphones_offer,) = headphones.offers
    assert isinstance(headphones_offer.price, Decimal)
    assert headphones_offer.price == Decimal("399.99")
    assert headphones_offer.price_currency == "USD"
    assert headphones_offer.availability == "https://schema.org/InStock"
    assert headphones_offer.inventory_level == 25
    valid_until = headphones_offer.price_valid_until
    assert valid_until == datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert valid_until is not None and valid_until.utcoffset() is not None
    assert valid_until.tzinfo == UTC
    assert headphones_offer.price_specification is not None
    assert json.loads(headphones_offer.price_specification)["price"] == 399.99
    assert isinstance(headphones.media, str)
    media = json.loads(headphones.media)
    assert [m["@type"] for m in media] == ["ImageObject", "ImageObject", "VideoObject"]
    properties = json.loads(headphones.additional_properties)
    assert [p["name"] for p in properties] == [
        "Color",
        "Wireless Technology",
        "Battery Life",
        "Weight",
    ]

    assert iphone_group.urn == "urn:cmp:product:IPHONE-15-PRO"
    assert iphone_group.group_code == "IPHONE-15-PRO"
    assert json.loads(iphone_group.varies_by) == ["Color", "Storage Capacity"]
    assert iphone_group.offers == ()
    assert iphone_group.sku is None
    assert len(json.loads(iphone_group.media)) == 2

    assert iphone.variant_of == "urn:cmp:product:IPHONE-15-PRO"
    (iphone_offer,) = iphone.offers
    assert isinstance(iphone_offer.price, Decimal)
    assert iphone_offer.price == Decimal("999")
    assert iphone_offer.inventory_level == 15
    assert iphone_offer.price_specification is None
    assert iphone_offer.price_valid_until == datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert [m["@type"] for m in json.loads(iphone.media)] == [
        "ImageObject",
        "ImageObject",
        "MediaObject",
    ]


# --- quirks that are repaired ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw_type", "kind"),
    [
        (["Product"], PRODUCT),
        (["Thing", "Product"], PRODUCT),
        ("schema:Product", PRODUCT),
        ("https://schema.org/Product", PRODUCT),
        ("http://schema.org/Product", PRODUCT),
        (" Product ", PRODUCT),
        ("schema:ProductGroup", PRODUCT_GROUP),
        (["https://schema.org/ProductGroup"], PRODUCT_GROUP),
    ],
)
def test_item_type_variants(raw_type: Any, kind: str) -> None:
    assert parse_one(product(**{"@type": raw_type})).kind == kind


def test_registry_property_id_with_padding() -> None:
    registry = organization(
        identifier={"@type": "PropertyValue", "propertyID": " cmp:orgId  ", "value": ORG_URN},
        brand={
            "@type": "Brand",
            "name": "Padded",
            "identifier": {
                "@type": "PropertyValue",
                "propertyID": "cmp:brandId  ",
                "value": f" {BRAND_URN} ",
            },
        },
    )
    (org,) = parse_registry(doc(registry))

    assert org.urn == ORG_URN
    assert org.brands == [RegistryBrand(urn=BRAND_URN, name="Padded", logo=None)]


def test_utf8_bom_is_skipped() -> None:
    items = parse_shard(doc(item_list(product()), prefix=BOM))
    (org,) = parse_registry(doc(organization(), prefix=BOM))
    (index,) = parse_feed_index(doc(feed_index(), prefix=BOM))

    assert [item.urn for item in items] == ["urn:cmp:sku:TEST-1"]
    assert org.urn == ORG_URN
    assert index.shard_urls == ["feed-000.json"]


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        ("49.90", Decimal("49.90")),
        (" 49.90 ", Decimal("49.90")),
        ("1,299.00", Decimal("1299.00")),
        (49.9, Decimal("49.9")),
        (12, Decimal("12")),
        (0, Decimal("0")),
    ],
)
def test_price_forms(price: Any, expected: Decimal) -> None:
    (parsed,) = parse_one(product(offers=offer(price=price))).offers

    assert isinstance(parsed.price, Decimal)
    assert parsed.price == expected


def test_float_price_keeps_its_decimal_digits() -> None:
    # 0.1 must not become 0.1000000000000000055511151231257827...
    (parsed,) = parse_one(product(offers=offer(price=0.1))).offers
    assert parsed.price == Decimal("0.1")


@pytest.mark.parametrize("sku", ["", "   ", None])
def test_empty_sku_is_none(sku: str | None) -> None:
    assert parse_one(product(sku=sku)).sku is None


@pytest.mark.parametrize("description", ["", "  \n ", None])
def test_empty_description_is_none(description: str | None) -> None:
    assert parse_one(product(description=description)).description is None


def test_text_fields_are_stripped() -> None:
    item = parse_one(product(name="  Trail Tent  ", description=" Roomy. ", sku=" TT-1 "))

    assert (item.name, item.description, item.sku) == ("Trail Tent", "Roomy.", "TT-1")


@pytest.mark.parametrize(
    ("valid_until", "expected"),
    [
        ("2026-01-31T12:00:00", datetime(2026, 1, 31, 12, 0, tzinfo=UTC)),
        ("2026-01-31T12:00:00Z", datetime(2026, 1, 31, 12, 0, tzinfo=UTC)),
        ("2026-01-31T12:00:00+02:00", datetime(2026, 1, 31, 10, 0, tzinfo=UTC)),
        ("2026-01-31", datetime(2026, 1, 31, 0, 0, tzinfo=UTC)),
    ],
)
def test_price_valid_until_is_utc(valid_until: str, expected: datetime) -> None:
    (parsed,) = parse_one(product(offers=offer(priceValidUntil=valid_until))).offers

    assert parsed.price_valid_until == expected
    assert parsed.price_valid_until is not None
    assert parsed.price_valid_until.tzinfo == UTC


def test_offer_optional_fields() -> None:
    (parsed,) = parse_one(
        product(
            offers=offer(
                priceCurrency=" usd ",
                inventoryLevel=7,
                availability=" https://schema.org/OutOfStock ",
                priceValidUntil="",
            )
        )
    ).offers

    assert parsed.price_currency == "USD"
    assert parsed.inventory_level == 7
    assert parsed.availability == "https://schema.org/OutOfStock"
    assert parsed.price_valid_until is None


def test_brand_as_plain_string() -> None:
    item = parse_one(product(brand="  Acme  "))

    assert item.brand_name == "Acme"
    assert item.brand_urn is None


def test_brand_as_list_takes_the_first() -> None:
    brands = [
        {
            "@type": "Brand",
            "name": "First",
            "identifier": {
                "@type": "PropertyValue",
                "propertyID": "cmp:brandId",
                "value": BRAND_URN,
            },
        },
        {"@type": "Brand", "name": "Second"},
    ]
    item = parse_one(product(brand=brands))

    assert item.brand_name == "First"
    assert item.brand_urn == BRAND_URN


def test_brand_id_that_is_not_a_urn_is_ignored() -> None:
    item = parse_one(product(brand={"@type": "Brand", "name": "Acme", "@id": "acme"}))

    assert item.brand_name == "Acme"
    assert item.brand_urn is None


def test_category_list_is_joined() -> None:
    item = parse_one(product(category=[" Outdoor ", "Tents", "", "Backpacking"]))

    assert item.category_path == "Outdoor > Tents > Backpacking"


def test_offers_as_a_list() -> None:
    offers = [offer(price=10, priceCurrency="USD"), offer(price="9.50", priceCurrency="EUR")]
    item = parse_one(product(offers=offers))

    assert [(o.price, o.price_currency) for o in item.offers] == [
        (Decimal("10"), "USD"),
        (Decimal("9.50"), "EUR"),
    ]


def test_product_without_offers() -> None:
    assert parse_one(product(offers=MISSING)).offers == ()


def test_image_object_and_variant_reference_as_string() -> None:
    item = parse_one(
        product(
            image=[{"@type": "ImageObject", "url": "https://shop.example/a.jpg"}],
            isVariantOf="urn:cmp:product:GROUP-1",
        )
    )

    assert item.image == "https://shop.example/a.jpg"
    assert item.variant_of == "urn:cmp:product:GROUP-1"


def test_media_is_json_text() -> None:
    single = {"@type": "ImageObject", "url": "https://shop.example/a.jpg"}

    assert json.loads(parse_one(product(**{"@cmp:media": single})).media) == [single]
    assert json.loads(parse_one(product(**{"cmp:media": [single]})).media) == [single]
    assert parse_one(product()).media == "[]"


def test_list_elements_without_list_item_wrapper() -> None:
    shard = {"@type": "ItemList", "itemListElement": [product()]}

    assert [item.urn for item in parse_shard(doc(shard))] == ["urn:cmp:sku:TEST-1"]


def test_registry_as_a_list_of_organizations() -> None:
    registry = [
        organization("First Org", ORG_URN, **{"cmp:productFeed": {"url": "first/feed.json"}}),
        organization("Second Org", ORG_URN_2, **{"cmp:productFeed": "second/feed.json"}),
    ]
    organizations = parse_registry(doc(registry))

    assert [(o.name, o.urn, o.feed_url) for o in organizations] == [
        ("First Org", ORG_URN, "first/feed.json"),
        ("Second Org", ORG_URN_2, "second/feed.json"),
    ]


def test_registry_graph_and_plain_org_id() -> None:
    registry = {
        "@context": {"schema": "https://schema.org"},
        "@graph": [organization("Graph Org", urn=None, **{"cmp:orgId": ORG_URN})],
    }
    (org,) = parse_registry(doc(registry))

    assert (org.name, org.urn, org.brands, org.feed_url) == ("Graph Org", ORG_URN, [], None)


def test_registry_brand_without_id() -> None:
    (org,) = parse_registry(doc(organization(brand=["Plain Brand"])))

    assert org.brands == [RegistryBrand(urn=None, name="Plain Brand", logo=None)]


def test_feed_index_with_organization_object() -> None:
    index = feed_index(
        orgid=MISSING,
        organization={"urn": ORG_URN, "name": "Northwind Home Goods"},
        shards=[{"url": "feed-000.json"}, "feed-001.json"],
    )

    assert parse_feed_index(doc(index)) == [
        FeedIndex(ORG_URN, "Northwind Home Goods", ["feed-000.json", "feed-001.json"])
    ]


def test_empty_feed_index_is_an_error_not_an_empty_feed() -> None:
    with pytest.raises(CatalogInputError, match="no ProductFeedIndex found"):
        parse_feed_index(Document("/feeds/feed.json", b"[]"))


def test_feed_index_with_orgid() -> None:
    assert parse_feed_index(doc(feed_index())) == [FeedIndex(ORG_URN, None, ["feed-000.json"])]


def test_list_of_feed_indexes() -> None:
    indexes = [
        feed_index(),
        feed_index(orgid=ORG_URN_2, shards=[{"url": "other/feed-000.json"}]),
    ]

    assert parse_feed_index(doc(indexes)) == [
        FeedIndex(ORG_URN, None, ["feed-000.json"]),
        FeedIndex(ORG_URN_2, None, ["other/feed-000.json"]),
    ]


def test_feed_index_without_organization() -> None:
    assert parse_feed_index(doc(feed_index(orgid=MISSING))) == [
        FeedIndex(None, None, ["feed-000.json"])
    ]


# --- input that is rejected -----------------------------------------------------------------


def _shard_with_second(node: dict[str, Any]) -> bytes:
    """A shard whose first item is valid and whose second is ``node``."""
    return json.dumps(item_list(product(**{"@id": "urn:cmp:sku:GOOD"}), node)).encode()


BAD_URN = "urn:cmp:sku:BAD-2"

BAD_SHARDS: list[Any] = [
    pytest.param(b'{"@type": "ItemList", "itemListElement": [', ["malformed JSON"], id="malformed"),
    pytest.param(b"", ["empty file"], id="empty"),
    pytest.param(b" \n\t ", ["empty file"], id="whitespace-only"),
    pytest.param(BOM, ["empty file"], id="bom-only"),
    pytest.param(
        json.dumps({"@type": "Organization", "itemListElement": []}).encode(),
        ["field '@type'", "expected 'ItemList'", "'Organization'"],
        id="wrong-top-level-type",
    ),
    pytest.param(
        json.dumps([item_list(product())]).encode(),
        ["field '@type'", "expected 'ItemList'"],
        id="top-level-list",
    ),
    pytest.param(
        json.dumps({"@type": "ItemList"}).encode(),
        ["field 'itemListElement'"],
        id="no-item-list-element",
    ),
    pytest.param(
        _shard_with_second(product(**{"@type": "Offer", "@id": BAD_URN})),
        ["item 2", "field 'item.@type'", "'Offer'"],
        id="item-type-offer",
    ),
    pytest.param(
        _shard_with_second(product(**{"@type": MISSING, "@id": BAD_URN})),
        ["item 2", "field 'item.@type'"],
        id="item-type-missing",
    ),
    pytest.param(
        _shard_with_second(product(**{"@id": MISSING})),
        ["item 2", "field 'item.@id'", "missing"],
        id="missing-id",
    ),
    pytest.param(
        _shard_with_second(product(**{"@id": "  "})),
        ["item 2", "field 'item.@id'", "missing"],
        id="blank-id",
    ),
    pytest.param(
        _shard_with_second(product(**{"@id": BAD_URN, "name": MISSING})),
        [f"item 2 ({BAD_URN})", "field 'item.name'", "missing"],
        id="missing-name",
    ),
    pytest.param(
        _shard_with_second(product(**{"@id": BAD_URN, "offers": offer(price=-5)})),
        [f"item 2 ({BAD_URN})", "field 'item.offers[0].price'", "negative"],
        id="negative-price",
    ),
    pytest.param(
        _shard_with_second(product(**{"@id": BAD_URN, "offers": offer(price="-5.00")})),
        [f"item 2 ({BAD_URN})", "field 'item.offers[0].price'", "negative"],
        id="negative-price-string",
    ),
    pytest.param(
        _shard_with_second(product(**{"@id": BAD_URN, "offers": offer(price="cheap")})),
        [f"item 2 ({BAD_URN})", "field 'item.offers[0].price'", "not a number"],
        id="non-numeric-price",
    ),
    pytest.param(
        _shard_with_second(product(**{"@id": BAD_URN, "offers": offer(price=True)})),
        [f"item 2 ({BAD_URN})", "field 'item.offers[0].price'", "not a number"],
        id="boolean-price",
    ),
    pytest.param(
        _shard_with_second(product(**{"@id": BAD_URN, "offers": offer(price="NaN")})),
        [f"item 2 ({BAD_URN})", "field 'item.offers[0].price'", "finite"],
        id="nan-price",
    ),
    pytest.param(
        _shard_with_second(product(**{"@id": BAD_URN, "offers": offer(price=MISSING)})),
        [f"item 2 ({BAD_URN})", "field 'item.offers[0].price'", "missing"],
        id="missing-price",
    ),
    pytest.param(
        _shard_with_second(product(**{"@id": BAD_URN, "offers": [offer(), offer(price=MISSING)]})),
        [f"item 2 ({BAD_URN})", "field 'item.offers[1].price'", "missing"],
        id="missing-price-second-offer",
    ),
    pytest.param(
        _shard_with_second(product(**{"@id": BAD_URN, "offers": ["10.00"]})),
        [f"item 2 ({BAD_URN})", "field 'item.offers[0]'", "Offer"],
        id="offer-not-an-object",
    ),
    pytest.param(
        _shard_with_second(
            product(**{"@id": BAD_URN, "offers": offer(priceValidUntil="next tuesday")})
        ),
        [f"item 2 ({BAD_URN})", "field 'item.offers[0].priceValidUntil'", "'next tuesday'"],
        id="bad-price-valid-until",
    ),
    pytest.param(
        _shard_with_second(
            product(**{"@id": BAD_URN, "offers": offer(priceValidUntil="2026-02-30")})
        ),
        [f"item 2 ({BAD_URN})", "field 'item.offers[0].priceValidUntil'"],
        id="impossible-date",
    ),
    pytest.param(
        _shard_with_second(
            product(**{"@id": BAD_URN, "offers": offer(inventoryLevel={"value": -3})})
        ),
        [f"item 2 ({BAD_URN})", "field 'item.offers[0].inventoryLevel.value'", "negative"],
        id="negative-inventory",
    ),
    pytest.param(
        _shard_with_second(
            product(
                **{
                    "@id": BAD_URN,
                    "offers": offer(priceSpecification={"@type": "X", "price": "free"}),
                }
            )
        ),
        [f"item 2 ({BAD_URN})", "field 'item.offers[0].priceSpecification.price'"],
        id="bad-price-specification",
    ),
    pytest.param(
        json.dumps({"@type": "ItemList", "itemListElement": [product(), "oops"]}).encode(),
        ["item 2", "ListItem"],
        id="element-not-an-object",
    ),
]


@pytest.mark.parametrize(("content", "fragments"), BAD_SHARDS)
def test_bad_shard(content: bytes, fragments: list[str]) -> None:
    with pytest.raises(CatalogInputError) as raised:
        parse_shard(Document(LOCATION, content))

    message = str(raised.value)
    assert raised.value.source == LOCATION
    assert message.startswith(LOCATION)
    for fragment in fragments:
        assert fragment in message


def test_malformed_json_names_no_item_or_field() -> None:
    with pytest.raises(CatalogInputError) as raised:
        parse_shard(Document(LOCATION, b"{not json"))

    assert raised.value.item is None
    assert raised.value.field is None
    assert str(raised.value).startswith(f"{LOCATION}: malformed JSON")


def test_error_attributes_name_item_and_field() -> None:
    content = _shard_with_second(product(**{"@id": BAD_URN, "offers": offer(price=-1)}))
    with pytest.raises(CatalogInputError) as raised:
        parse_shard(Document(LOCATION, content))

    error = raised.value
    assert (error.source, error.item, error.field) == (
        LOCATION,
        f"item 2 ({BAD_URN})",
        "item.offers[0].price",
    )
    assert str(error) == (
        f"{LOCATION}: item 2 ({BAD_URN}): field 'item.offers[0].price': negative value -1"
    )


def _registry(*nodes: Any) -> bytes:
    return json.dumps(list(nodes)).encode()


BAD_REGISTRIES: list[Any] = [
    pytest.param(b"[{]", ["malformed JSON"], id="malformed"),
    pytest.param(b"", ["empty file"], id="empty"),
    pytest.param(b"[]", ["no Organization found"], id="empty-list"),
    pytest.param(
        _registry(organization(), organization("No Id Org", urn=None)),
        ["organization 2 (No Id Org)", "field 'identifier'", "cmp:orgId"],
        id="missing-org-id",
    ),
    pytest.param(
        _registry(
            organization(),
            organization(
                "Wrong Id Org",
                urn=None,
                identifier={"@type": "PropertyValue", "propertyID": "duns", "value": "123"},
            ),
        ),
        ["organization 2 (Wrong Id Org)", "field 'identifier'", "cmp:orgId"],
        id="other-property-id",
    ),
    pytest.param(
        _registry(organization("First"), organization("Again")),
        [
            "organization 2 (Again)",
            "field 'identifier'",
            f"duplicate organization {ORG_URN}",
            "also organization 1",
        ],
        id="duplicate-org",
    ),
    pytest.param(
        _registry(organization(), {"@type": "Brand", "name": "Not an org"}),
        ["organization 2", "field '@type'", "Organization", "'Brand'"],
        id="wrong-type",
    ),
    pytest.param(
        _registry(organization(name="  ")),
        ["organization 1", "field 'name'", "missing"],
        id="missing-name",
    ),
    pytest.param(
        _registry(organization(brand=[{"@type": "Brand", "logo": "x.png"}])),
        ["organization 1 (Test Org)", "field 'brand[0].name'"],
        id="brand-without-name",
    ),
    pytest.param(_registry(organization(), "oops"), ["organization 2"], id="not-an-object"),
]


@pytest.mark.parametrize(("content", "fragments"), BAD_REGISTRIES)
def test_bad_registry(content: bytes, fragments: list[str]) -> None:
    location = "/registries/registry.jsonld"
    with pytest.raises(CatalogInputError) as raised:
        parse_registry(Document(location, content))

    message = str(raised.value)
    assert message.startswith(location)
    for fragment in fragments:
        assert fragment in message


BAD_INDEXES: list[Any] = [
    pytest.param(b'{"@type": "ProductFeedIndex",', ["malformed JSON"], id="malformed"),
    pytest.param(b"", ["empty file"], id="empty"),
    pytest.param(
        json.dumps(feed_index(**{"@type": "DataFeed"})).encode(),
        ["index 1", "field '@type'", "ProductFeedIndex", "'DataFeed'"],
        id="wrong-type",
    ),
    pytest.param(
        json.dumps([feed_index(), feed_index(**{"@type": "ItemList"})]).encode(),
        ["index 2", "field '@type'", "'ItemList'"],
        id="wrong-type-second",
    ),
    pytest.param(
        json.dumps([feed_index(), "feed.json"]).encode(),
        ["index 2", "field '@type'"],
        id="not-an-object",
    ),
    pytest.param(
        json.dumps(feed_index(shards=MISSING)).encode(),
        ["index 1", "field 'shards'", "missing"],
        id="no-shards",
    ),
    pytest.param(
        json.dumps(feed_index(shards={"url": "feed-000.json"})).encode(),
        ["index 1", "field 'shards'", "not a list"],
        id="shards-not-a-list",
    ),
    pytest.param(
        json.dumps(feed_index(shards=[{"url": "feed-000.json"}, {"lastUpdated": "x"}])).encode(),
        ["index 1", "field 'shards[1].url'"],
        id="shard-without-url",
    ),
]


@pytest.mark.parametrize(("content", "fragments"), BAD_INDEXES)
def test_bad_feed_index(content: bytes, fragments: list[str]) -> None:
    location = "/feeds/test/feed.json"
    with pytest.raises(CatalogInputError) as raised:
        parse_feed_index(Document(location, content))

    message = str(raised.value)
    assert message.startswith(location)
    for fragment in fragments:
        assert fragment in message


# --- digests --------------------------------------------------------------------------------


def test_digest_ignores_position() -> None:
    target = product(**{"@id": "urn:cmp:sku:MOVED", "category": ["A", "B"]})
    others = [product(**{"@id": f"urn:cmp:sku:OTHER-{n}"}) for n in range(2)]

    first = parse_shard(doc(item_list(target, *others)))[0]
    last = parse_shard(doc(item_list(*others, target)))[-1]

    assert first.urn == last.urn == "urn:cmp:sku:MOVED"
    assert first.where != last.where
    assert first.digest == last.digest


def test_digest_is_stable_across_parses() -> None:
    node = product(description="Same")

    assert parse_one(node).digest == parse_one(dict(node)).digest


def test_group_digest_ignores_position() -> None:
    group = {"@type": "ProductGroup", "@id": "urn:cmp:product:G", "name": "G", "variesBy": "Size"}

    first = parse_shard(doc(item_list(group, product())))[0]
    second = parse_shard(doc(item_list(product(), group)))[1]

    assert first.kind == second.kind == PRODUCT_GROUP
    assert first.digest == second.digest


@pytest.mark.parametrize(
    "change",
    [
        {"offers": offer(price=11.5)},
        {"offers": offer(priceCurrency="EUR")},
        {"offers": offer(inventoryLevel=3)},
        {"offers": offer(priceValidUntil="2030-01-01")},
        {"offers": [offer(), offer()]},
        {"name": "Renamed"},
        {"description": "New text"},
        {"sku": "TEST-2"},
        {"brand": "Other"},
        {"category": "Other > Path"},
        {"isVariantOf": "urn:cmp:product:G"},
        {"additionalProperty": [{"name": "Color", "value": "Red"}]},
    ],
)
def test_digest_changes_with_content(change: dict[str, Any]) -> None:
    assert parse_one(product()).digest != parse_one(product(**change)).digest
