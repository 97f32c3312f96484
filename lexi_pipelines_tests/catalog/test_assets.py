"""Catalog assets materialized for real, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from sqlalchemy import select

from lexi_pipelines.catalog.assets import brand_registry, product_feed
from lexi_pipelines.catalog.checks import (
    product_links_resolved,
    product_offers_are_valid,
    registry_organizations_have_feeds,
)
from lexi_pipelines.catalog.jobs import catalog_cleanup_job
from lexi_pipelines.db.engine import make_engine
from lexi_pipelines.db.models import Brand, Category, Offer, Product, table_of
from lexi_pipelines_tests.conftest import snapshot

CATALOG_ASSETS = [
    brand_registry,
    product_feed,
    registry_organizations_have_feeds,
    product_offers_are_valid,
    product_links_resolved,
]
ACME = "acme-outdoor"


def materialize(
    resources: dict[str, Any],
    instance: dg.DagsterInstance,
    partition: str,
    *,
    raise_on_error: bool = True,
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        CATALOG_ASSETS,
        partition_key=partition,
        resources=resources,
        instance=instance,
        raise_on_error=raise_on_error,
    )


def feed_metadata(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    events = result.asset_materializations_for_node("catalog__product_feed")
    return {k: v.value for k, v in events[0].metadata.items()}


def rows(database_url: str, query: Any) -> list[dict[str, Any]]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]
    finally:
        engine.dispose()


def product(database_url: str, urn: str) -> dict[str, Any]:
    found = rows(database_url, select(table_of(Product)).where(Product.urn == urn))
    assert found, f"{urn} not stored"
    return found[0]


def edit_json(path: Path, change: Callable[[Any], Any]) -> None:
    data = json.loads(path.read_text(encoding="utf-8-sig"))
    path.write_text(json.dumps(change(data) or data, indent=1), encoding="utf-8")


def test_demo_catalog_ingests_on_both_databases(
    resources: dict[str, Any], database_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    for partition in ("acme-outdoor", "northwind-home", "mesh-market"):
        result = materialize(resources, dagster_instance, partition)
        assert result.success
    state = snapshot(database_url)
    assert len(state["products"]) == 26
    assert len(state["offers"]) == 26
    assert len(state["product_groups"]) == 2
    # mesh-market lists three organizations; its filter selects two.
    assert len(state["organizations"]) == 4
    names = {row[0]: row for row in state["organizations"]}
    assert "urn:cmp:orgid:a2ec17f5-626b-5d9d-ad73-5dac153a5394" not in names


def test_quirky_feed_is_normalized_not_dropped(
    resources: dict[str, Any], database_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    result = materialize(resources, dagster_instance, ACME)
    metadata = feed_metadata(result)
    assert metadata["products_inserted"] == 12
    assert metadata["variants_linked_by_url"] == 1
    assert metadata["products_without_brand"] == 1

    # Brand named by the feed only: created under the organization, marked as such.
    trailhead = rows(database_url, select(table_of(Brand)).where(Brand.name == "Trailhead Supply"))
    assert trailhead and trailhead[0]["seen_only_in_feed"] is True
    assert product(database_url, "urn:cmp:sku:ACME-FILTER-SQZ")["brand_urn"] == trailhead[0]["urn"]
    # "RIDGELINE" without identifier resolves by name to the registry's "Ridgeline".
    stove = product(database_url, "urn:cmp:sku:ACME-STOVE-TI")
    ridgeline = rows(database_url, select(table_of(Brand)).where(Brand.name == "Ridgeline"))
    assert stove["brand_urn"] == ridgeline[0]["urn"]
    assert ridgeline[0]["seen_only_in_feed"] is False
    # No brand: kept without one.
    assert product(database_url, "urn:cmp:sku:ACME-MUG-450")["brand_urn"] is None
    # Empty SKU stored as NULL, product kept.
    assert product(database_url, "urn:cmp:sku:ACME-DRYBAG-20L")["sku"] is None
    # isVariantOf names no group: linked through the URL without its query string.
    red_l = product(database_url, "urn:cmp:sku:ACME-RJ-RED-L")
    assert red_l["product_group_urn"] == "urn:cmp:product:ACME-RIDGE-JACKET"
    assert red_l["variant_of"] == "urn:cmp:product:ACME-RIDGE-JACKET-2025"
    # String price and a naive priceValidUntil (read as UTC).
    offers = {o["product_urn"]: o for o in rows(database_url, select(table_of(Offer)))}
    assert offers["urn:cmp:sku:ACME-LAMP-400"]["price"] == Decimal("49.90")
    valid_until = offers["urn:cmp:sku:ACME-STOVE-TI"]["price_valid_until"]
    if valid_until.tzinfo is None:  # SQLite keeps no zone; values are stored in UTC
        valid_until = valid_until.replace(tzinfo=UTC)
    assert valid_until == datetime(2027, 1, 31, 23, 59, 59, tzinfo=UTC)
    # Category paths become a tree.
    categories = {c["id"]: c for c in rows(database_url, select(table_of(Category)))}
    assert categories["outdoor/tents/backpacking"]["parent_id"] == "outdoor/tents"

    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert checks["registry_organizations_have_feeds"].passed
    assert checks["product_offers_are_valid"].passed
    links = checks["product_links_resolved"]
    assert not links.passed and links.severity == dg.AssetCheckSeverity.WARN
    assert links.metadata["products_without_brand"].value == 1


def test_rematerializing_unchanged_feed_writes_nothing(
    resources: dict[str, Any], database_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    materialize(resources, dagster_instance, ACME)
    before = snapshot(database_url)
    again = feed_metadata(materialize(resources, dagster_instance, ACME))
    assert snapshot(database_url) == before
    assert again["shards_skipped"] == again["shards_total"] == 2
    assert again["products_inserted"] == again["products_updated"] == 0
    assert again["products_unchanged"] == 12


def test_changed_shard_updates_soft_deletes_and_restores(
    resources: dict[str, Any],
    database_url: str,
    catalog_dir: Path,
    dagster_instance: dg.DagsterInstance,
) -> None:
    materialize(resources, dagster_instance, ACME)
    shard = catalog_dir / "acme-outdoor" / "feed" / "feed-000.json"
    original = shard.read_bytes()
    untouched_before = product(database_url, "urn:cmp:sku:ACME-LAMP-400")

    def drop_mug_and_reprice(data: Any) -> Any:
        items = data["itemListElement"]
        data["itemListElement"] = [e for e in items if not e["item"]["@id"].endswith("MUG-450")]
        for element in data["itemListElement"]:
            if element["item"]["@id"] == "urn:cmp:sku:ACME-TPOLE-CARBON":
                element["item"]["offers"]["price"] = 12.5
        return data

    edit_json(shard, drop_mug_and_reprice)
    metadata = feed_metadata(materialize(resources, dagster_instance, ACME))
    assert metadata["shards_skipped"] == 1
    assert metadata["products_updated"] == 1
    assert metadata["products_soft_deleted"] == 1
    mug = product(database_url, "urn:cmp:sku:ACME-MUG-450")
    assert mug["deleted_at"] is not None
    prices = {o["product_urn"]: o["price"] for o in rows(database_url, select(table_of(Offer)))}
    assert prices["urn:cmp:sku:ACME-TPOLE-CARBON"] == Decimal("12.5")
    # A product in the skipped shard is not rewritten at all.
    assert product(database_url, "urn:cmp:sku:ACME-LAMP-400") == untouched_before

    shard.write_bytes(original)
    restored = feed_metadata(materialize(resources, dagster_instance, ACME))
    assert restored["products_updated"] == 2  # the mug comes back, the pole is re-priced
    assert product(database_url, "urn:cmp:sku:ACME-MUG-450")["deleted_at"] is None


def test_shard_dropped_from_index_soft_deletes_its_products_and_cleanup_purges(
    resources: dict[str, Any],
    database_url: str,
    catalog_dir: Path,
    dagster_instance: dg.DagsterInstance,
) -> None:
    materialize(resources, dagster_instance, ACME)
    index = catalog_dir / "acme-outdoor" / "feed" / "feed.json"

    def keep_first_shard(data: Any) -> Any:
        data["shards"] = data["shards"][:1]
        data["totalShards"] = 1
        return data

    edit_json(index, keep_first_shard)
    metadata = feed_metadata(materialize(resources, dagster_instance, ACME))
    assert metadata["shards_removed"] == 1
    assert metadata["products_soft_deleted"] == 6
    live = rows(database_url, select(table_of(Product)).where(Product.deleted_at.is_(None)))
    assert len(live) == 6

    # Retention not yet reached: nothing purged.
    cleanup = catalog_cleanup_job.execute_in_process(
        instance=dagster_instance, resources={"database": resources["database"]}
    )
    assert cleanup.success
    assert len(rows(database_url, select(table_of(Product)))) == 12

    purge = catalog_cleanup_job.execute_in_process(
        instance=dagster_instance,
        resources={"database": resources["database"]},
        run_config={"ops": {"purge_soft_deleted_products": {"config": {"retention_days": 0}}}},
    )
    assert purge.success
    assert len(rows(database_url, select(table_of(Product)))) == 6
    assert len(rows(database_url, select(table_of(Offer)))) == 6
    category_ids = {c["id"] for c in rows(database_url, select(table_of(Category)))}
    # Only the purged headlamp used this category: orphaned, removed with its empty parent.
    assert "outdoor/lighting/headlamps" not in category_ids
    assert "outdoor/lighting" not in category_ids
    # Still used by a live product.
    assert "outdoor/tents/backpacking" in category_ids


def _bad(path: str, change: Callable[[Any], Any]) -> tuple[str, Callable[[Any], Any]]:
    return path, change


def _set_item(position: int, key: str, value: Any) -> Callable[[Any], Any]:
    def change(data: Any) -> Any:
        data["itemListElement"][position - 1]["item"][key] = value
        return data

    return change


def _set_offer_price(position: int, price: Any) -> Callable[[Any], Any]:
    def change(data: Any) -> Any:
        data["itemListElement"][position - 1]["item"]["offers"]["price"] = price
        return data

    return change


def _duplicate_id(data: Any) -> Any:
    data["itemListElement"][0]["item"]["@id"] = "urn:cmp:sku:ACME-RJ-RED-M"
    return data


def _escape_folder(data: Any) -> Any:
    data["shards"][1]["url"] = "../../northwind-home/feed-000.json"
    return data


SHARD0 = "acme-outdoor/feed/feed-000.json"
SHARD1 = "acme-outdoor/feed/feed-001.json"
BAD_INPUTS = {
    "wrong item @type": (SHARD0, _set_item(6, "@type", "Offer"), "item 6", "item.@type"),
    "missing @id": (SHARD0, _set_item(6, "@id", ""), "item 6", "item.@id"),
    "missing name": (SHARD1, _set_item(2, "name", None), "item 2", "item.name"),
    "negative price": (SHARD1, _set_offer_price(2, -5), "item 2", "item.offers[0].price"),
    "duplicate @id": (SHARD1, _duplicate_id, "item 1", "item.@id"),
    "shard escapes folder": (
        "acme-outdoor/feed/feed.json",
        _escape_folder,
        "index 1",
        "shards[1].url",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS), ids=list(BAD_INPUTS))
def test_bad_input_fails_clearly_and_keeps_previous_state(
    case: str,
    resources: dict[str, Any],
    database_url: str,
    catalog_dir: Path,
    dagster_instance: dg.DagsterInstance,
) -> None:
    materialize(resources, dagster_instance, ACME)
    # Change a price in shard 0 too: a partial write would show up as this new price.
    edit_json(catalog_dir / SHARD0, _set_offer_price(6, 1.0))
    before = snapshot(database_url)
    path, change, item, field = BAD_INPUTS[case]
    edit_json(catalog_dir / path, change)

    result = materialize(resources, dagster_instance, ACME, raise_on_error=False)
    assert not result.success
    failure = result.failure_data_for_node("catalog__product_feed")
    assert failure is not None and failure.error is not None
    message = failure.error.message
    assert path.rsplit("/", 1)[-1] in message and item in message and f"'{field}'" in message
    assert snapshot(database_url) == before
    # A permanent input error is not retried.
    restarts = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_RESTARTED]
    assert not restarts


def test_malformed_json_names_the_file(
    resources: dict[str, Any],
    database_url: str,
    catalog_dir: Path,
    dagster_instance: dg.DagsterInstance,
) -> None:
    materialize(resources, dagster_instance, ACME)
    before = snapshot(database_url)
    shard = catalog_dir / SHARD1
    shard.write_bytes(shard.read_bytes()[:-40])
    result = materialize(resources, dagster_instance, ACME, raise_on_error=False)
    failure = result.failure_data_for_node("catalog__product_feed")
    assert failure is not None and failure.error is not None
    assert "feed-001.json" in failure.error.message
    assert "malformed JSON" in failure.error.message
    assert snapshot(database_url) == before
