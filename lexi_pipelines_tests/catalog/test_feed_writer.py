"""Prepared rows and the feed writer: COPY encodings agree, duplicates are named exactly."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lexi_pipelines.catalog.config import load_ingestion_config
from lexi_pipelines.catalog.errors import CatalogInputError
from lexi_pipelines.catalog.feed import FeedResult, ingest_feed
from lexi_pipelines.catalog.locations import Document
from lexi_pipelines.catalog.registry import ingest_registry
from lexi_pipelines.catalog.rows import BrandDirectory, ShardTask, prepare_shard
from lexi_pipelines.catalog.sources import SourceReader
from lexi_pipelines.db.engine import ensure_schema, make_engine
from lexi_pipelines.db.models import Offer, Product
from lexi_pipelines_tests.conftest import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
from feedgen import GeneratedCatalog, generate_catalog


@pytest.fixture
def catalog(tmp_path: Path) -> GeneratedCatalog:
    return generate_catalog(tmp_path, 120, shard_count=2)


def ingest(database_url: str, catalog: GeneratedCatalog) -> FeedResult:
    ingestor = load_ingestion_config(catalog.ingestion_yaml).ingestors[0]
    engine = make_engine(database_url)
    ensure_schema(engine)
    try:
        with SourceReader() as reader:
            ingest_registry(engine, ingestor, reader)
            return ingest_feed(engine, ingestor, reader)
    finally:
        engine.dispose()


def edit(path: Path, change: Any) -> None:
    data = json.loads(path.read_bytes())
    change(data["itemListElement"])
    path.write_text(json.dumps(data))


def product_positions(path: Path) -> list[int]:
    """Item numbers (from 1) of the Products of a shard."""
    elements = json.loads(path.read_bytes())["itemListElement"]
    return [n for n, e in enumerate(elements, start=1) if e["item"]["@type"] == "Product"]


def urn_at(path: Path, position: int) -> str:
    urn: str = json.loads(path.read_bytes())["itemListElement"][position - 1]["item"]["@id"]
    return urn


def test_plain_and_escaped_encodings_agree(catalog: GeneratedCatalog) -> None:
    # A backslash anywhere in a shard switches to per-field escaping: same rows either way.
    content = catalog.shard_paths[0].read_bytes()
    escaped = b'{"note":"C:\\\\feeds",' + content[1:]
    task = ShardTask(
        document=Document("/feeds/feed-000.json", content),
        ingestor="bench",
        organization_urn="urn:cmp:orgid:bench-0000",
        brands=BrandDirectory(frozenset(), {}),
        now=datetime(2026, 1, 2, tzinfo=UTC),
        copy_text=True,
    )
    plain = prepare_shard(task)
    other = prepare_shard(
        ShardTask(**{**task.__dict__, "document": Document(task.document.location, escaped)})
    )
    assert plain.item_count > 0 and plain.offer_rows
    assert plain == other


def test_text_needing_escapes_is_stored_exactly(
    database_url: str, catalog: GeneratedCatalog
) -> None:
    name = 'Tab\there, line\nbreak, back\\slash, "quoted" \\N'
    position = product_positions(catalog.shard_paths[0])[0]
    urn = urn_at(catalog.shard_paths[0], position)

    def rename(items: list[Any]) -> None:
        items[position - 1]["item"]["name"] = name
        items[position - 1]["item"]["offers"]["availability"] = "in\tstock"

    edit(catalog.shard_paths[0], rename)
    ingest(database_url, catalog)
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            assert conn.scalar(select(Product.name).where(Product.urn == urn)) == name
            availability = select(Offer.availability).where(Offer.product_urn == urn)
            assert conn.scalar(availability) == "in\tstock"
    finally:
        engine.dispose()


def test_duplicate_within_a_shard_names_both_items(
    database_url: str, catalog: GeneratedCatalog
) -> None:
    shard = catalog.shard_paths[0]
    first, second = product_positions(shard)[:2]
    urn = urn_at(shard, first)
    edit(shard, lambda items: items[second - 1]["item"].update({"@id": urn}))

    with pytest.raises(CatalogInputError) as failure:
        ingest(database_url, catalog)
    assert failure.value.item == f"item {second} ({urn})"
    assert failure.value.field == "item.@id"
    assert f"first seen at {shard.resolve()} item {first} ({urn})" in str(failure.value)


def test_duplicate_across_shards_names_the_first(
    database_url: str, catalog: GeneratedCatalog
) -> None:
    shard0, shard1 = catalog.shard_paths
    first = product_positions(shard0)[3]
    second = product_positions(shard1)[2]
    urn = urn_at(shard0, first)
    edit(shard1, lambda items: items[second - 1]["item"].update({"@id": urn}))

    with pytest.raises(CatalogInputError) as failure:
        ingest(database_url, catalog)
    assert failure.value.item == f"item {second} ({urn})"
    assert f"first seen at {shard0.resolve()} item {first} ({urn})" in str(failure.value)


def test_duplicate_of_an_unchanged_shard(database_url: str, catalog: GeneratedCatalog) -> None:
    result = ingest(database_url, catalog)
    assert result.products_inserted == 120
    shard0, shard1 = catalog.shard_paths
    urn = urn_at(shard0, product_positions(shard0)[0])
    second = product_positions(shard1)[1]
    edit(shard1, lambda items: items[second - 1]["item"].update({"@id": urn}))

    with pytest.raises(CatalogInputError) as failure:
        ingest(database_url, catalog)
    assert failure.value.item == f"item {second} ({urn})"
    assert f"also in unchanged shard {shard0.resolve()}" in str(failure.value)
