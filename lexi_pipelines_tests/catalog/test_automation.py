"""Schedules per ingestor and the feed-update sensor."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from lexi_pipelines.catalog.partitions import ingestion_config
from lexi_pipelines.catalog.resources import CatalogSourceResource
from lexi_pipelines.catalog.schedules import catalog_cleanup_schedule, ingestor_schedules
from lexi_pipelines.catalog.sensors import catalog_feed_update_sensor
from lexi_pipelines.definitions import defs

DEMO_INGESTORS = ["acme-outdoor", "northwind-home", "mesh-market"]


def test_one_schedule_per_ingestor_with_its_cron() -> None:
    by_name = {s.name: s for s in ingestor_schedules}
    expected = [f"catalog_{i.slug}_schedule" for i in ingestion_config.ingestors]
    assert sorted(by_name) == sorted(expected)
    for ingestor in ingestion_config.ingestors:
        schedule = by_name[f"catalog_{ingestor.slug}_schedule"]
        assert schedule.cron_schedule == ingestor.schedule
        assert schedule.execution_timezone == "UTC"
        assert schedule.job_name == "catalog_ingest_job"


@pytest.mark.parametrize("ingestor", DEMO_INGESTORS)
def test_schedule_requests_its_own_partition(ingestor: str) -> None:
    name = f"catalog_{ingestor.replace('-', '_')}_schedule"
    schedule = next(s for s in ingestor_schedules if s.name == name)
    tick = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
    repository = defs.get_repository_def()
    with dg.build_schedule_context(
        scheduled_execution_time=tick, repository_def=repository
    ) as context:
        data = schedule.evaluate_tick(context)
    assert data.run_requests is not None and len(data.run_requests) == 1
    request = data.run_requests[0]
    assert request.partition_key == ingestor
    assert request.run_key == f"{ingestor}:{tick.isoformat()}"


def test_cleanup_schedule_is_daily_with_retention_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert catalog_cleanup_schedule.cron_schedule == "0 3 * * *"
    assert catalog_cleanup_schedule.job_name == "catalog_cleanup_job"
    monkeypatch.setenv("LEXI_CATALOG_RETENTION_DAYS", "7")
    with dg.build_schedule_context(repository_def=defs.get_repository_def()) as context:
        data = catalog_cleanup_schedule.evaluate_tick(context)
    assert data.run_requests is not None
    config = data.run_requests[0].run_config
    assert config["ops"]["purge_soft_deleted_products"]["config"]["retention_days"] == 7.0


def _tick(
    instance: dg.DagsterInstance, sources: CatalogSourceResource, cursor: str | None
) -> dg.SensorResult:
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"catalog_sources": sources}
    )
    result = catalog_feed_update_sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def test_feed_update_sensor_first_tick_no_change_and_change(catalog_dir: Path) -> None:
    sources = CatalogSourceResource(ingestion_config_path=str(catalog_dir / "ingestion.yaml"))
    with dg.instance_for_test() as instance:
        first = _tick(instance, sources, None)
        assert sorted(r.partition_key or "" for r in first.run_requests or []) == sorted(
            DEMO_INGESTORS
        )
        assert first.cursor is not None
        assert set(json.loads(first.cursor)) == set(DEMO_INGESTORS)

        idle = _tick(instance, sources, first.cursor)
        assert not idle.run_requests
        assert idle.cursor == first.cursor

        shard = catalog_dir / "acme-outdoor" / "feed" / "feed-001.json"
        shard.write_bytes(shard.read_bytes() + b"\n")
        stat = shard.stat()
        os.utime(shard, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        changed = _tick(instance, sources, idle.cursor)
        assert [r.partition_key for r in changed.run_requests or []] == ["acme-outdoor"]
        request = (changed.run_requests or [])[0]
        assert request.run_key and request.run_key.startswith("acme-outdoor:")
        assert request.run_key not in {r.run_key for r in first.run_requests or []}

        # Same state again: the cursor moved, nothing new is requested.
        assert not _tick(instance, sources, changed.cursor).run_requests


def test_feed_update_sensor_ignores_unselected_cmp_organization(catalog_dir: Path) -> None:
    sources = CatalogSourceResource(ingestion_config_path=str(catalog_dir / "ingestion.yaml"))
    with dg.instance_for_test() as instance:
        first = _tick(instance, sources, None)
        feeds = catalog_dir / "mesh-market" / "feeds"
        unselected = feeds / "fernleaf-botanicals" / "feed-000.json"
        unselected.write_bytes(unselected.read_bytes() + b"\n\n")
        assert not _tick(instance, sources, first.cursor).run_requests
