"""The code location's run-failure sensor: record once, email once, skip check-blocked runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from lexi_pipelines.common.notifier import NotifierResource
from lexi_pipelines.common.resources import DatabaseResource
from lexi_pipelines.operations.run_failures import recent
from lexi_pipelines.operations.sensors import run_failure_sensor
from lexi_pipelines_tests.common.loopback_smtp import LoopbackSMTP


@dg.op
def explode() -> None:
    raise RuntimeError("disk full while writing shard 7")


@dg.job(tags={"lexi/queue": "ingestion"})
def failing_job() -> None:
    explode()


@dg.asset
def guarded() -> None:
    return None


@dg.asset_check(asset=guarded, blocking=True)
def always_fails() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=False)


@pytest.fixture
def resources(sqlite_url: str, tmp_path: Path, smtp: LoopbackSMTP) -> dict[str, Any]:
    return {
        "database": DatabaseResource(url=sqlite_url),
        "notifier": NotifierResource(
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
            smtp_security="none",
            recipients=["ops@example.com"],
            outbox_path=str(tmp_path / "outbox"),
        ),
    }


def _evaluate(
    instance: dg.DagsterInstance, run: dg.DagsterRun, event: dg.DagsterEvent, resources: Any
) -> None:
    with dg.build_run_status_sensor_context(
        sensor_name=run_failure_sensor.name,
        dagster_instance=instance,
        dagster_run=run,
        dagster_event=event,
        resources=resources,
    ) as context:
        run_failure_sensor(context.for_run_failure())


def test_a_step_failure_is_recorded_and_emailed_once(
    resources: dict[str, Any], smtp: LoopbackSMTP
) -> None:
    with dg.instance_for_test() as instance:
        result = failing_job.execute_in_process(instance=instance, raise_on_error=False)
        for _ in range(2):  # a repeated tick must not duplicate anything
            _evaluate(instance, result.dagster_run, result.get_run_failure_event(), resources)
    [row] = recent(resources["database"].engine)
    assert row["run_id"] == result.run_id and row["job_name"] == "failing_job"
    assert row["failed_steps"] == ["explode"] and row["queue"] == "ingestion"
    assert row["worker_lost"] is False and row["notified"].startswith("smtp://")
    [mail] = smtp.received
    body = mail.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "failing_job" in str(mail.message["Subject"]) and "explode" in body
    assert f"/runs/{result.run_id}" in body


def test_a_lost_worker_is_told_apart(resources: dict[str, Any], smtp: LoopbackSMTP) -> None:
    with dg.instance_for_test() as instance:
        run = instance.create_run_for_job(failing_job, tags={"dagster/parent_run_id": "abc"})
        instance.report_run_failed(run, "Run worker process 4242 exited unexpectedly")
        [record] = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
        assert record.dagster_event is not None
        _evaluate(instance, run, record.dagster_event, resources)
    [row] = recent(resources["database"].engine)
    assert row["worker_lost"] is True and row["failed_steps"] == [] and row["retry_of"] == "abc"
    assert "worker died" in smtp.received[0].message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_a_run_blocked_by_a_check_is_recorded_not_emailed(
    resources: dict[str, Any], smtp: LoopbackSMTP
) -> None:
    with dg.instance_for_test() as instance:
        result = dg.materialize([guarded, always_fails], instance=instance, raise_on_error=False)
        assert not result.success
        _evaluate(instance, result.dagster_run, result.get_run_failure_event(), resources)
    [row] = recent(resources["database"].engine)
    assert row["notified"] is None and not smtp.received


@dg.job(tags={"lexi/reports-own-failures": "true"})
def self_reporting_job() -> None:
    explode()


def test_a_job_that_reports_its_own_failures_is_recorded_not_emailed(
    resources: dict[str, Any], smtp: LoopbackSMTP
) -> None:
    with dg.instance_for_test() as instance:
        result = self_reporting_job.execute_in_process(instance=instance, raise_on_error=False)
        _evaluate(instance, result.dagster_run, result.get_run_failure_event(), resources)
    [row] = recent(resources["database"].engine)
    assert row["failed_steps"] == ["explode"] and row["notified"] is None and not smtp.received
