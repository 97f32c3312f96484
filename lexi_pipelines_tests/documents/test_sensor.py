"""documents_inbox_sensor (new project, change, touch, delete, idle) and the reconcile schedule."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from lexi_pipelines.common.resources import DatabaseResource
from lexi_pipelines.definitions import defs
from lexi_pipelines.documents.assets import document_chunks, document_text, documents_registry
from lexi_pipelines.documents.partitions import PROJECTS
from lexi_pipelines.documents.resources import DocumentStorageResource
from lexi_pipelines.documents.schedules import REGISTRY_OP, documents_reconcile_schedule
from lexi_pipelines.documents.sensors import documents_inbox_sensor

PROJECT = "demo-legal"


@pytest.fixture
def sensor_resources(sqlite_url: str, storage: Path) -> dict[str, Any]:
    return {
        "database": DatabaseResource(url=sqlite_url),
        "document_storage": DocumentStorageResource(storage_path=str(storage)),
    }


def _tick(
    instance: dg.DagsterInstance, resources: dict[str, Any], cursor: str | None
) -> dg.SensorResult:
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources) as context:
        result = documents_inbox_sensor(context)
    assert isinstance(result, dg.SensorResult)
    # What the daemon would do with the partition requests.
    for request in result.dynamic_partitions_requests or []:
        assert isinstance(request, dg.AddDynamicPartitionsRequest)
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result


def _materialize(instance: dg.DagsterInstance, resources: dict[str, Any], project: str) -> None:
    dg.materialize(
        [documents_registry, document_text, document_chunks],
        partition_key=project,
        instance=instance,
        resources=resources,
    )


def _partitions(result: dg.SensorResult) -> list[str]:
    return sorted(r.partition_key or "" for r in result.run_requests or [])


def test_new_project_then_idle_then_changes(
    sensor_resources: dict[str, Any], storage: Path
) -> None:
    documents = storage / PROJECT / "documents"
    with dg.instance_for_test() as instance:
        first = _tick(instance, sensor_resources, None)
        assert _partitions(first) == [PROJECT]
        assert instance.get_dynamic_partitions(PROJECTS) == [PROJECT]
        request = (first.run_requests or [])[0]
        assert request.run_key is not None and request.run_key.startswith(f"{PROJECT}:")
        assert request.job_name in (None, "documents_job")

        _materialize(instance, sensor_resources, PROJECT)
        idle = _tick(instance, sensor_resources, first.cursor)
        assert idle.run_requests == [] and idle.cursor == first.cursor

        # Touched but not changed: the digest moves, the content hash does not: no run.
        policy = documents / "retention-policy.md"
        stat = policy.stat()
        os.utime(policy, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
        touched = _tick(instance, sensor_resources, idle.cursor)
        assert touched.run_requests == []
        assert touched.cursor != idle.cursor

        policy.write_text(policy.read_text() + "\nAmended in 2027.\n")
        changed = _tick(instance, sensor_resources, touched.cursor)
        assert _partitions(changed) == [PROJECT]
        key = (changed.run_requests or [])[0].run_key
        # Same files, same digest, same run key: the daemon would drop a duplicate.
        again = _tick(instance, sensor_resources, touched.cursor)
        assert (again.run_requests or [])[0].run_key == key

        _materialize(instance, sensor_resources, PROJECT)
        (documents / "court-notice.html").unlink()
        deleted = _tick(instance, sensor_resources, changed.cursor)
        assert _partitions(deleted) == [PROJECT]


def test_second_project_gets_a_partition_and_only_its_own_run(
    sensor_resources: dict[str, Any], storage: Path
) -> None:
    with dg.instance_for_test() as instance:
        first = _tick(instance, sensor_resources, None)
        _materialize(instance, sensor_resources, PROJECT)
        settled = _tick(instance, sensor_resources, first.cursor)
        (storage / "contracts-2026" / "documents").mkdir(parents=True)
        (storage / "contracts-2026" / "documents" / "nda.txt").write_text("Mutual NDA.")
        (storage / "evaluations").mkdir()  # not a project: no documents/ folder
        result = _tick(instance, sensor_resources, settled.cursor)
        assert _partitions(result) == ["contracts-2026"]
        assert sorted(instance.get_dynamic_partitions(PROJECTS)) == ["contracts-2026", PROJECT]
        assert sorted(json.loads(result.cursor or "{}")) == ["contracts-2026", PROJECT]


def test_empty_new_project_gets_a_partition_but_no_run(
    sensor_resources: dict[str, Any], storage: Path
) -> None:
    shutil.rmtree(storage / PROJECT)
    (storage / "fresh" / "documents").mkdir(parents=True)
    with dg.instance_for_test() as instance:
        result = _tick(instance, sensor_resources, None)
        assert result.run_requests == []
        assert instance.get_dynamic_partitions(PROJECTS) == ["fresh"]


def test_database_outage_fails_the_tick_without_moving_the_cursor(storage: Path) -> None:
    broken = {
        "database": DatabaseResource(url="postgresql+psycopg://nobody@127.0.0.1:1/none"),
        "document_storage": DocumentStorageResource(storage_path=str(storage)),
    }
    with dg.instance_for_test() as instance:
        # The daemon records a failed tick and keeps the old cursor; the next tick retries.
        with pytest.raises(dg.DagsterResourceFunctionError) as raised:
            _tick(instance, broken, None)
        assert "Connection refused" in str(raised.value.__cause__)
        assert instance.get_dynamic_partitions(PROJECTS) == []


def test_reconcile_schedule_rehashes_every_project() -> None:
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(PROJECTS, ["a", "b"])
        context = dg.build_schedule_context(
            instance=instance,
            repository_def=defs.get_repository_def(),
            scheduled_execution_time=datetime(2026, 11, 23, 2, 30, tzinfo=UTC),
        )
        requests = documents_reconcile_schedule.evaluate_tick(context).run_requests or []
    assert sorted(r.partition_key or "" for r in requests) == ["a", "b"]
    assert all(r.run_config["ops"][REGISTRY_OP]["config"]["rehash"] for r in requests)
    assert REGISTRY_OP in {n.name for n in defs.resolve_job_def("documents_job").graph.node_defs}
