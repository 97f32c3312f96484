"""Fuzzing the parsers that read what users and partners send: JSON-LD and label files.

Whatever the bytes, a parser returns a result or raises its domain's input error (which the
assets turn into a non-retried failure naming file, item and field). Any other exception is
a bug: Dagster would retry it as if transient, and the labels sensor would crash its tick.
Structured strategies build near-valid documents so that the fuzzing reaches past the first
type check; raw bytes cover the rest. Examples stay few (suite speed); CI runs derandomized.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lexi_pipelines.catalog.errors import CatalogInputError
from lexi_pipelines.catalog.locations import Document
from lexi_pipelines.catalog.parsing import parse_feed_index, parse_registry, parse_shard
from lexi_pipelines.catalog.rows import BrandDirectory, ShardTask, prepare_shard
from lexi_pipelines.classification.errors import ClassificationInputError
from lexi_pipelines.classification.labels import read_labels

FUZZ = settings(
    # LEXI_FUZZ_EXAMPLES=5000 for a deep local hunt; the suite keeps it quick.
    max_examples=int(os.environ.get("LEXI_FUZZ_EXAMPLES", "60")),
    deadline=None,
    derandomize=os.environ.get("CI") == "true",
    database=None,  # nothing written into the work tree; a failure prints its example
    suppress_health_check=[HealthCheck.too_slow],
)

# --- JSON values biased towards what the parsers look at -------------------------------------

WORDS = st.sampled_from(
    [
        "", " ", "\x00", "Organization", "Brand", "Product", "ProductGroup", "ItemList",
        "ListItem", "ProductFeedIndex", "schema:Product", "https://schema.org/Product",
        "cmp:orgId", "cmp:brandId", "urn:cmp:orgid:a", "urn:cmp:sku:b", "urn:x", "-5", "12,50",
        "1e400", "NaN", "Infinity", "2026-01-01", "2026-13-45T99:00", "feed-000.json",
        "../../etc/passwd", "/etc/passwd", "file:///etc/hosts", "http://h/x.json",
    ]
)  # fmt: skip
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | WORDS
)
KEYS = st.sampled_from(
    [
        "@type",
        "@id",
        "@graph",
        "name",
        "identifier",
        "propertyID",
        "value",
        "brand",
        "logo",
        "url",
        "sameAs",
        "cmp:category",
        "cmp:productFeed",
        "cmp:orgId",
        "cmp:brandId",
        "orgid",
        "organization",
        "urn",
        "shards",
        "itemListElement",
        "item",
        "offers",
        "price",
        "priceCurrency",
        "priceValidUntil",
        "inventoryLevel",
        "priceSpecification",
        "availability",
        "sku",
        "image",
        "isVariantOf",
        "category",
        "additionalProperty",
        "@cmp:media",
        "productGroupID",
        "variesBy",
        "description",
    ]
) | st.text(max_size=6)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=6),
    max_leaves=20,
)


def _obj(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A dict whose named fields are usually there (each may be left out), plus noise."""
    return st.fixed_dictionaries({}, optional=fields).flatmap(
        lambda d: st.dictionaries(KEYS, JSON, max_size=2).map(lambda extra: {**extra, **d})
    )


PROPERTY = _obj(propertyID=st.sampled_from(["cmp:orgId", "cmp:brandId", " CMP:ORGID "]), value=JSON)
BRAND = _obj(**{"@type": JSON, "name": JSON, "identifier": PROPERTY | JSON, "logo": JSON})
ORGANIZATION = _obj(
    **{
        "@type": st.sampled_from(["Organization", "schema:Organization"]) | JSON,
        "name": JSON,
        "identifier": PROPERTY | st.lists(PROPERTY, max_size=2) | JSON,
        "brand": st.lists(BRAND | JSON, max_size=3) | BRAND | JSON,
        "cmp:productFeed": _obj(url=JSON) | JSON,
        "cmp:category": JSON,
        "sameAs": JSON,
        "logo": JSON,
        "cmp:brandId": JSON,
    }
)
REGISTRY = ORGANIZATION | st.lists(ORGANIZATION, max_size=3) | _obj(**{"@graph": JSON}) | JSON
INDEX = _obj(
    **{
        "@type": st.just("ProductFeedIndex") | JSON,
        "orgid": JSON,
        "organization": _obj(urn=JSON, name=JSON) | JSON,
        "shards": st.lists(_obj(url=JSON) | JSON, max_size=3) | JSON,
    }
)
OFFER = _obj(
    price=JSON,
    priceCurrency=JSON,
    priceValidUntil=JSON,
    availability=JSON,
    inventoryLevel=_obj(value=JSON) | JSON,
    priceSpecification=_obj(price=JSON) | JSON,
)
ITEM = _obj(
    **{
        "@type": st.sampled_from(["Product", "ProductGroup", ["Product"], "schema:Product"]) | JSON,
        "@id": st.sampled_from(["urn:cmp:sku:a", "urn:cmp:sku:b", "urn:cmp:product:g"]) | JSON,
        "name": JSON,
        "offers": OFFER | st.lists(OFFER | JSON, max_size=2) | JSON,
        "brand": BRAND | JSON,
        "category": JSON,
        "isVariantOf": _obj(**{"@id": JSON}) | JSON,
        "image": JSON,
        "sku": JSON,
        "additionalProperty": JSON,
        "@cmp:media": JSON,
        "productGroupID": JSON,
        "variesBy": JSON,
    }
)
SHARD = _obj(
    **{
        "@type": st.just("ItemList") | JSON,
        "itemListElement": st.lists(_obj(item=ITEM) | ITEM | JSON, max_size=4) | JSON,
    }
)


# Parses, but fits no database integer column: must be refused while parsing, by item.
HUGE_INVENTORY = json.dumps(
    {
        "@type": "ItemList",
        "itemListElement": [
            {
                "@type": "Product",
                "@id": "urn:x",
                "name": "n",
                "offers": {"price": 1, "inventoryLevel": {"value": 10**30}},
            }
        ],
    }
).encode()


def _encoded(structures: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    """JSON text of a structure, sometimes with a BOM, cut short or with a byte flipped."""

    def variants(value: Any) -> st.SearchStrategy[bytes]:
        text = json.dumps(value).encode()
        return st.one_of(
            st.just(text),
            st.just(b"\xef\xbb\xbf" + text),
            st.integers(0, len(text)).map(lambda n: text[:n]),
            st.tuples(st.integers(0, max(len(text) - 1, 0)), st.integers(0, 255)).map(
                lambda f: text[: f[0]] + bytes([f[1]]) + text[f[0] + 1 :]
            ),
        )

    return structures.flatmap(variants) | st.binary(max_size=200)


def _catalog_outcome(parse: Any, data: bytes) -> Any:
    try:
        return parse(Document("/feeds/acme/feed-000.json", data))
    except CatalogInputError as exc:
        assert str(exc).startswith("/feeds/acme/feed-000.json"), exc  # names the file
        return None


@FUZZ
@given(_encoded(REGISTRY))
@example(b"[" * 5000)
@example(b'{"@type": "Organization", "name": "A", "cmp:orgId": ' + b"9" * 5000 + b"}")
def test_registry_parser_never_fails_unexpectedly(data: bytes) -> None:
    _catalog_outcome(parse_registry, data)


@FUZZ
@given(_encoded(INDEX))
def test_feed_index_parser_never_fails_unexpectedly(data: bytes) -> None:
    _catalog_outcome(parse_feed_index, data)


@FUZZ
@given(_encoded(SHARD), st.booleans())
@example(HUGE_INVENTORY, True)
def test_shard_parser_and_row_builder_never_fail_unexpectedly(data: bytes, copy: bool) -> None:
    """Parsing plus what the parse workers build from it: brands, categories, row encoding."""
    if _catalog_outcome(parse_shard, data) is None:
        return
    task = ShardTask(
        document=Document("/feeds/acme/feed-000.json", data),
        ingestor="acme",
        organization_urn="urn:cmp:orgid:a",
        brands=BrandDirectory(frozenset({"urn:cmp:brandid:r"}), {"ridgeline": "urn:x"}),
        now=datetime(2026, 1, 1, tzinfo=UTC),
        copy_text=copy,
    )
    _catalog_outcome(lambda _doc: prepare_shard(task), data)


# --- labels ----------------------------------------------------------------------------------

LABEL_KEYS = st.sampled_from(["doc_id", "field", "label", "split"]) | st.text(max_size=5)
LABEL_VALUES = (
    st.sampled_from(["d1", "d2", "topic", "water", "train", "test", "TEST", "", " ", "a b"])
    | SCALARS
    | JSON
)
JSONL_LINE = st.dictionaries(LABEL_KEYS, LABEL_VALUES, max_size=5).map(json.dumps) | JSON.map(
    json.dumps
)
CELL = st.sampled_from(["d1", "d2", "topic", "water", "train", "test", "", "x\ty", '"q"']) | (
    st.text(max_size=8)
)
TABLE_LINE = st.lists(CELL, min_size=1, max_size=4)


def _labels_outcome(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, data in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(data)
        try:
            read_labels(root)
        except ClassificationInputError as exc:
            assert exc.source is not None and exc.source in str(exc), exc  # names the file


@FUZZ
@given(
    st.lists(TABLE_LINE, max_size=6).map(
        lambda rows: "\n".join("\t".join(r) for r in rows).encode()
    )
    | st.binary(max_size=120)
)
def test_tsv_labels_never_fail_unexpectedly(data: bytes) -> None:
    _labels_outcome({"labels.tsv": data, "labels/topic.tsv": data})


@FUZZ
@given(
    st.tuples(
        st.lists(LABEL_KEYS, min_size=1, max_size=5),
        st.lists(TABLE_LINE, max_size=5),
    ).map(
        lambda t: "\n".join(
            ",".join(json.dumps(c) if "," in c else c for c in row) for row in [t[0], *t[1]]
        ).encode()
    )
    | st.binary(max_size=120)
)
@example(b'doc_id,field,label\n"' + b"x" * 140_000 + b'",topic,water\n')
@example(b'doc_id,"' + b"f" * 140_000 + b'",label\n')
def test_csv_labels_never_fail_unexpectedly(data: bytes) -> None:
    _labels_outcome({"labels.csv": data})


@FUZZ
@given(st.lists(JSONL_LINE, max_size=5).map(lambda lines: "\n".join(lines).encode()))
@example(b'{"doc_id": "d1", "field": "topic", "label": ' + b"7" * 5000 + b"}")
@example(b"[" * 5000)
def test_jsonl_labels_never_fail_unexpectedly(data: bytes) -> None:
    _labels_outcome({"labels.jsonl": data})
