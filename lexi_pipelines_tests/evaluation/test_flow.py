"""The seed's three-model example end to end through Dagster, on SQLite and PostgreSQL.

gpt-4 passes QC and completes; claude-3 fails QC, is re-uploaded fixed and completes; gemini's
dataset changes after QC passed, so its evaluation fails, and a retry with the checked file
completes. Emails go to a real SMTP server on loopback.
"""

from __future__ import annotations

import shutil
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import dagster as dg
import openpyxl
import pytest
from sqlalchemy import func, select

from lexi_pipelines.common.notifier import NotifierResource
from lexi_pipelines.common.resources import DatabaseResource
from lexi_pipelines.db.engine import make_engine
from lexi_pipelines.db.models import (
    EvaluationIssue,
    EvaluationResultRow,
    ModelStateHistory,
    table_of,
)
from lexi_pipelines.evaluation.assets import dataset, leaderboard, results
from lexi_pipelines.evaluation.checks import dataset_checks, field_validation
from lexi_pipelines.evaluation.partitions import EVALUATION_MODELS, EVALUATION_USE_CASES
from lexi_pipelines.evaluation.resources import EvaluationStorageResource
from lexi_pipelines.evaluation.sensors import (
    evaluation_leaderboard_sensor,
    evaluation_run_failure_sensor,
    evaluation_upload_sensor,
)
from lexi_pipelines.evaluation.states import IllegalTransition, UseCaseState
from lexi_pipelines.evaluation.states import ModelEvaluationState as S
from lexi_pipelines.evaluation.store import (
    Trigger,
    model_history,
    model_row,
    move_model,
    use_case_history,
    use_case_row,
)
from lexi_pipelines_tests.common.loopback_smtp import LoopbackSMTP
from lexi_pipelines_tests.evaluation import flow_data
from lexi_pipelines_tests.evaluation.flow_data import USE_CASE

QC_AND_EVALUATION = [dataset, field_validation, dataset_checks, results]
QC_ONLY = [dataset, field_validation, dataset_checks]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def env(database_url: str, tmp_path: Path, smtp: LoopbackSMTP) -> dict[str, Any]:
    """The full flow runs on both databases."""
    return _resources(database_url, tmp_path, smtp)


@pytest.fixture
def sqlite_env(sqlite_url: str, tmp_path: Path, smtp: LoopbackSMTP) -> dict[str, Any]:
    """Narrower cases run on the embedded default only (the store is shared code)."""
    return _resources(sqlite_url, tmp_path, smtp)


def _resources(database_url: str, tmp_path: Path, smtp: LoopbackSMTP) -> dict[str, Any]:
    storage = tmp_path / "storage"
    flow_data.write_use_case(storage / "evaluations")
    return {
        "database": DatabaseResource(url=database_url),
        "evaluation_storage": EvaluationStorageResource(storage_path=str(storage)),
        "notifier": NotifierResource(
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
            smtp_security="none",
            recipients=["ops@example.com"],
            outbox_path=str(tmp_path / "outbox"),
        ),
    }


def _model_dir(env: dict[str, Any], model: str) -> Path:
    paths = env["evaluation_storage"].paths
    return Path(paths.model_dir(USE_CASE, model))


def _tick(instance: dg.DagsterInstance, env: dict[str, Any], cursor: str | None) -> dg.SensorResult:
    resources = {"evaluation_storage": env["evaluation_storage"]}
    with dg.build_sensor_context(instance=instance, resources=resources, cursor=cursor) as ctx:
        result = evaluation_upload_sensor(ctx)
    assert isinstance(result, dg.SensorResult)
    for request in result.dynamic_partitions_requests or []:
        if isinstance(request, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(request.partitions_def_name, request.partition_keys)
        else:
            for key in request.partition_keys:
                instance.delete_dynamic_partition(request.partitions_def_name, key)
    return result


def _run(
    instance: dg.DagsterInstance, env: dict[str, Any], key: str, assets: list[Any] | None = None
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        assets or QC_AND_EVALUATION,
        partition_key=key,
        resources=env,
        instance=instance,
        raise_on_error=False,
        tags={"lexi/trigger": "upload"},
    )


def _states(env: dict[str, Any], model: str) -> list[tuple[str | None, str]]:
    engine = env["database"].engine
    return [(h["from_state"], h["to_state"]) for h in model_history(engine, USE_CASE, model)]


def _emails(smtp: LoopbackSMTP, subject_part: str) -> list[EmailMessage]:
    return [r.message for r in smtp.received if subject_part in str(r.message["Subject"])]


def _attachment_names(message: EmailMessage) -> list[tuple[str, str]]:
    return [
        (part.get_filename() or "", part.get_content_type()) for part in message.iter_attachments()
    ]


def _keys(result: dg.ExecuteInProcessResult) -> set[str]:
    return {
        e.asset_key.to_user_string()  # type: ignore[union-attr]
        for e in result.get_asset_materialization_events()
    }


HAPPY = [
    (None, S.REGISTERED),
    (S.REGISTERED, S.QUALITY_CHECK_PENDING),
    (S.QUALITY_CHECK_PENDING, S.QUALITY_CHECK_RUNNING),
    (S.QUALITY_CHECK_RUNNING, S.QUALITY_CHECK_PASSED),
    (S.QUALITY_CHECK_PASSED, S.EVALUATION_QUEUED),
    (S.EVALUATION_QUEUED, S.EVALUATION_RUNNING),
    (S.EVALUATION_RUNNING, S.EVALUATION_COMPLETED),
]


def test_three_models_progress_independently(env: dict[str, Any], smtp: LoopbackSMTP) -> None:
    engine = env["database"].engine
    with dg.instance_for_test() as instance:
        first = _tick(instance, env, None)
        keys = sorted(r.partition_key or "" for r in first.run_requests or [])
        assert keys == [f"{USE_CASE}/{m}" for m in sorted(flow_data.MODELS)]
        assert set(instance.get_dynamic_partitions(EVALUATION_USE_CASES)) == {USE_CASE}

        # gpt-4: passes QC (one non-blocking warning) and completes.
        gpt = _run(instance, env, f"{USE_CASE}/gpt-4")
        assert gpt.success and _keys(gpt) == {"evaluation/dataset", "evaluation/results"}
        assert _states(env, "gpt-4") == HAPPY
        row = model_row(engine, USE_CASE, "gpt-4")
        assert row is not None and row["decision"] == "autonomous"
        assert row["issue_counts"] == {"error": 0, "warning": 1, "info": 0}
        workbook = openpyxl.load_workbook(row["results_file"], read_only=True)
        assert "Summary" in workbook.sheetnames and len(workbook.sheetnames) == 1 + 5
        [done] = _emails(smtp, "gpt-4: evaluation complete")
        assert _attachment_names(done) == [(Path(row["results_file"]).name, XLSX)]
        assert {"ml-team@example.com", "ops@example.com"} <= set(smtp.received[-1].rcpt_tos)

        # claude-3: three golden errors fail the blocking field check; results never run.
        claude = _run(instance, env, f"{USE_CASE}/claude-3")
        assert not claude.success and _keys(claude) == {"evaluation/dataset"}
        checks = {e.check_name: e.passed for e in claude.get_asset_check_evaluations()}
        assert checks == {"field_validation": False, "dataset_checks": False}
        row = model_row(engine, USE_CASE, "claude-3")
        assert row is not None and row["current_state"] == S.AWAITING_DATA_FIX
        with engine.connect() as conn:
            issues = {
                (i.field, i.row, i.rule, i.value)
                for i in conn.execute(
                    select(table_of(EvaluationIssue)).where(
                        EvaluationIssue.model == "claude-3", EvaluationIssue.severity == "error"
                    )
                )
            }
        assert issues == {
            ("invoice_number", 6, "pattern", "INV-12"),
            ("total", 11, "min_value", "-15.00"),
            ("invoice_date", 19, "min_date", "2019-06-30"),
        }
        [failed_qc] = _emails(smtp, "claude-3: quality check failed")
        [(report_name, _)] = _attachment_names(failed_qc)
        assert report_name.startswith("quality-issues-") and report_name.endswith(".csv")
        assert "INV-12" in failed_qc.get_body(("plain",)).get_content()  # type: ignore[union-attr]

        # gemini: QC passes, then the upload changes before evaluation: evaluation fails.
        gemini_key = f"{USE_CASE}/gemini"
        assert _run(instance, env, gemini_key, QC_ONLY).success
        data = _model_dir(env, "gemini") / "dataset.csv"
        checked = data.read_bytes()
        data.write_bytes(checked + b"s999,doc-999,digital" + b",x" * 10 + b"\n")
        failed = _run(instance, env, gemini_key, [results])
        assert not failed.success
        row = model_row(engine, USE_CASE, "gemini")
        assert row is not None and row["current_state"] == S.EVALUATION_FAILED
        assert "changed or was removed after its quality check" in row["error"]
        [failed_mail] = _emails(smtp, "gemini: evaluation failed")
        assert "changed or was removed" in failed_mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        # The failure sensor finds nothing left running (the asset closed it) and only asks for
        # the leaderboard; no second email.
        failure = _failure_sensor(instance, env, failed)
        assert isinstance(failure, dg.RunRequest) and failure.partition_key == USE_CASE
        assert len(_emails(smtp, "evaluation failed")) == 1

        # Retry from EVALUATION_QUEUED with the file that passed QC: completes.
        data.write_bytes(checked)
        assert _run(instance, env, gemini_key, [results]).success
        assert _states(env, "gemini")[-4:] == [
            (S.EVALUATION_RUNNING, S.EVALUATION_FAILED),
            (S.EVALUATION_FAILED, S.EVALUATION_QUEUED),
            (S.EVALUATION_QUEUED, S.EVALUATION_RUNNING),
            (S.EVALUATION_RUNNING, S.EVALUATION_COMPLETED),
        ]

        # claude-3 re-uploaded fixed: the sensor asks for claude-3 only; it completes.
        flow_data.write_csv(_model_dir(env, "claude-3") / "dataset.csv", flow_data.fixed_rows())
        again = _tick(instance, env, first.cursor)
        assert [r.partition_key for r in again.run_requests or []] == [f"{USE_CASE}/claude-3"]
        assert _run(instance, env, f"{USE_CASE}/claude-3").success
        history = model_history(engine, USE_CASE, "claude-3")
        assert [(h["from_state"], h["to_state"]) for h in history] == [
            *HAPPY[:3],
            (S.QUALITY_CHECK_RUNNING, S.QUALITY_CHECK_FAILED),
            (S.QUALITY_CHECK_FAILED, S.AWAITING_DATA_FIX),
            (S.AWAITING_DATA_FIX, S.QUALITY_CHECK_PENDING),
            *HAPPY[2:],
        ]
        qc_failed = history[3]
        assert qc_failed["issue_count"] == 4 and qc_failed["file"].endswith("dataset.csv")
        assert qc_failed["run_id"] == claude.run_id
        assert qc_failed["triggered_by"] == "upload" and qc_failed["at"] is not None
        assert "3 error, 1 warning" in qc_failed["reason"]
        assert len(_emails(smtp, "evaluation complete")) == 3

        # Leaderboard: every model side by side, best F1 first.
        board = dg.materialize(
            [leaderboard], partition_key=USE_CASE, resources=env, instance=instance
        )
        metadata = board.asset_materializations_for_node("evaluation__leaderboard")[0].metadata
        assert metadata["best_model"].value == "gpt-4" and metadata["evaluated"].value == 3
        table = str(metadata["leaderboard"].value)
        assert table.index("gpt-4") < table.index("claude-3") < table.index("gemini")

        # Re-materializing unchanged inputs changes nothing and sends nothing.
        before = (len(model_history(engine, USE_CASE, "gpt-4")), len(smtp.received))
        rerun = _run(instance, env, f"{USE_CASE}/gpt-4")
        assert rerun.success
        assert (len(model_history(engine, USE_CASE, "gpt-4")), len(smtp.received)) == before
        meta = rerun.asset_materializations_for_node("evaluation__dataset")[0].metadata
        assert meta["unchanged"].value is True
        with engine.connect() as conn:
            rows = conn.execute(select(func.count()).select_from(EvaluationResultRow)).scalar()
        # gpt-4 and claude-3 one dataset version each, gemini one: (5 fields + overall) * 3.
        assert rows == 18


def _failure_sensor(
    instance: dg.DagsterInstance, env: dict[str, Any], failed: dg.ExecuteInProcessResult
) -> Any:
    with dg.build_run_status_sensor_context(
        sensor_name=evaluation_run_failure_sensor.name,
        dagster_instance=instance,
        dagster_run=failed.dagster_run,
        dagster_event=failed.get_run_failure_event(),
        resources=env,
    ) as context:
        return evaluation_run_failure_sensor(context.for_run_failure())


def test_a_crashed_run_is_closed_by_the_failure_sensor(
    sqlite_env: dict[str, Any], smtp: LoopbackSMTP
) -> None:
    env = sqlite_env
    engine = env["database"].engine
    key = f"{USE_CASE}/gpt-4"
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(EVALUATION_MODELS, [key])
        assert _run(instance, env, key, QC_ONLY).success
        # As if the run process died mid-evaluation: RUNNING in the database, run failed.
        with engine.begin() as conn:
            move_model(conn, USE_CASE, "gpt-4", S.EVALUATION_RUNNING, Trigger("test"))
        # A run that dies before the asset can close the state (here: its database is gone).
        unreachable = DatabaseResource(url="postgresql+psycopg://nobody@127.0.0.1:9/none")
        crashed = _run(instance, {**env, "database": unreachable}, key, [results])
        assert not crashed.success
        request = _failure_sensor(instance, env, crashed)
        assert isinstance(request, dg.RunRequest) and request.partition_key == USE_CASE
        row = model_row(engine, USE_CASE, "gpt-4")
        assert row is not None and row["current_state"] == S.EVALUATION_FAILED
        assert len(_emails(smtp, "gpt-4: evaluation failed")) == 1
        # The next attempt recovers: retried from EVALUATION_QUEUED.
        assert _run(instance, env, key, [results]).success


def test_illegal_transitions_write_nothing(database_url: str) -> None:
    engine = make_engine(database_url)
    from lexi_pipelines.db.engine import ensure_schema

    ensure_schema(engine)
    with engine.begin() as conn:
        move_model(conn, "uc", "m", S.QUALITY_CHECK_PENDING, Trigger("test"))
    illegal = "QUALITY_CHECK_PENDING -> EVALUATION_COMPLETED"
    with pytest.raises(IllegalTransition, match=illegal), engine.begin() as conn:
        move_model(conn, "uc", "m", S.EVALUATION_COMPLETED, Trigger("test"))
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(ModelStateHistory)).scalar()
    assert count == 2  # REGISTERED, QUALITY_CHECK_PENDING
    row = model_row(engine, "uc", "m")
    assert row is not None and row["current_state"] == S.QUALITY_CHECK_PENDING
    engine.dispose()


def test_upload_sensor_hashes_content_and_drops_removed_models(
    sqlite_env: dict[str, Any],
) -> None:
    env = sqlite_env
    root = env["evaluation_storage"].paths.root
    case = root / USE_CASE
    with dg.instance_for_test() as instance:
        first = _tick(instance, env, None)
        assert len(first.run_requests or []) == 3
        idle = _tick(instance, env, first.cursor)
        assert not idle.run_requests and idle.skip_reason is not None
        # A touch (same bytes, new mtime) requests nothing.
        data = case / "models" / "gpt-4" / "dataset.csv"
        data.write_bytes(data.read_bytes())
        assert not _tick(instance, env, first.cursor).run_requests
        # A config change re-checks every model of the use case.
        config = case / "config.json"
        config.write_text(config.read_text().replace('"max_ratio": 4', '"max_ratio": 5'))
        changed = _tick(instance, env, first.cursor)
        assert len(changed.run_requests or []) == 3
        # A removed model loses its partition and refreshes the leaderboard.
        shutil.rmtree(case / "models" / "gemini")
        removed = _tick(instance, env, changed.cursor)
        [request] = removed.run_requests or []
        assert request.job_name == "evaluation_leaderboard_job"
        assert request.partition_key == USE_CASE
        assert f"{USE_CASE}/gemini" not in instance.get_dynamic_partitions(EVALUATION_MODELS)
        # Bad names are ignored with a warning, never turned into partitions.
        (root / "bad name" / "models" / "m").mkdir(parents=True)
        (root / "bad name" / "models" / "m" / "dataset.csv").write_text("sample_id\n1\n")
        assert not _tick(instance, env, removed.cursor).run_requests


def test_upload_sensor_run_keys_survive_a_reverted_dataset(sqlite_env: dict[str, Any]) -> None:
    # Dagster drops a request whose run key it has seen: A -> B -> A must still ask for a run.
    data = _model_dir(sqlite_env, "gpt-4") / "dataset.csv"
    original = data.read_bytes()
    seen: set[str] = set()
    cursor = None
    with dg.instance_for_test() as instance:
        for content in (original, original + b"\n", original, original + b"\n"):
            data.write_bytes(content)
            result = _tick(instance, sqlite_env, cursor)
            mine = [r for r in result.run_requests or [] if r.partition_key == f"{USE_CASE}/gpt-4"]
            assert len(mine) == 1 and mine[0].run_key not in seen
            seen.add(str(mine[0].run_key))
            cursor = result.cursor
        shutil.rmtree(data.parent)
        first_removal = _tick(instance, sqlite_env, cursor)
        data.parent.mkdir()
        data.write_bytes(original)
        readded = _tick(instance, sqlite_env, first_removal.cursor)
        shutil.rmtree(data.parent)
        second_removal = _tick(instance, sqlite_env, readded.cursor)
    [once] = first_removal.run_requests or []
    [again] = second_removal.run_requests or []
    assert once.run_key != again.run_key


def test_leaderboard_archives_models_whose_upload_is_gone(sqlite_env: dict[str, Any]) -> None:
    env = sqlite_env
    engine = env["database"].engine
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(
            EVALUATION_MODELS, [f"{USE_CASE}/{m}" for m in flow_data.MODELS]
        )
        instance.add_dynamic_partitions(EVALUATION_USE_CASES, [USE_CASE])
        for model in ("gpt-4", "gemini"):
            assert _run(instance, env, f"{USE_CASE}/{model}").success
        shutil.rmtree(_model_dir(env, "gemini"))
        board = dg.materialize(
            [leaderboard], partition_key=USE_CASE, resources=env, instance=instance
        )
        metadata = board.asset_materializations_for_node("evaluation__leaderboard")[0].metadata
        assert metadata["archived"].value == ["gemini"] and metadata["models"].value == 1
        row = model_row(engine, USE_CASE, "gemini")
        assert row is not None and row["current_state"] == S.ARCHIVED
        assert Path(str(metadata["workbook"].value)).is_file()


def test_leaderboard_sensor_requests_the_use_case(sqlite_env: dict[str, Any]) -> None:
    env = sqlite_env
    key = f"{USE_CASE}/gpt-4"
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(EVALUATION_MODELS, [key])
        done = _run(instance, env, key)
        context = dg.build_run_status_sensor_context(
            sensor_name=evaluation_leaderboard_sensor.name,
            dagster_instance=instance,
            dagster_run=done.dagster_run,
            dagster_event=done.get_run_success_event(),
        )
        request = evaluation_leaderboard_sensor(context)
        assert isinstance(request, dg.RunRequest) and request.partition_key == USE_CASE


def test_a_malformed_config_fails_qc_naming_file_and_key(sqlite_env: dict[str, Any]) -> None:
    env = sqlite_env
    engine = env["database"].engine
    config = env["evaluation_storage"].paths.use_case_dir(USE_CASE) / "config.json"
    config.write_text(config.read_text().replace('"NumericMatch"', '"NumericalMatch"'))
    key = f"{USE_CASE}/gpt-4"
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(EVALUATION_MODELS, [key])
        result = _run(instance, env, key)
        assert not result.success and _keys(result) == {"evaluation/dataset"}
        meta = result.asset_materializations_for_node("evaluation__dataset")[0].metadata
        error = str(meta["input_error"].value)
        assert "config.json" in error and "key fields.total.strategy" in error
        case = use_case_row(engine, USE_CASE)
        assert case is not None and case["current_state"] == UseCaseState.CONFIG_INVALID
        assert "fields.total.strategy" in case["config_error"]
        row = model_row(engine, USE_CASE, "gpt-4")
        assert row is not None and row["current_state"] == S.AWAITING_DATA_FIX
        # Fixing the config alone re-checks the model, which then completes.
        config.write_text(config.read_text().replace('"NumericalMatch"', '"NumericMatch"'))
        assert _run(instance, env, key).success
        case = use_case_row(engine, USE_CASE)
        assert case is not None and case["current_state"] == UseCaseState.CONFIG_VALIDATED
        states = [h["to_state"] for h in use_case_history(engine, USE_CASE)]
        assert states == [
            "AWAITING_CONFIG",
            "CONFIG_RECEIVED",
            "CONFIG_VALIDATION_RUNNING",
            "CONFIG_INVALID",
            "CONFIG_RECEIVED",
            "CONFIG_VALIDATION_RUNNING",
            "CONFIG_VALIDATED",
        ]
