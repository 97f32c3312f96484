"""``lexi jobs`` and ``lexi health`` against a real ``dagster dev`` (webserver, daemon with the
queued run coordinator, code server) on loopback, with its own DAGSTER_HOME and LEXI_HOME.

One server for the module (it takes 10-30 s to start on the 2-core machine). The code location
is ``jobs_location``: the real classification and operations jobs, without sensors.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from lexi_pipelines.cli import app
from lexi_pipelines.db.engine import ensure_schema, make_engine
from lexi_pipelines.documents.extract import extract_pending
from lexi_pipelines.documents.projects import project_paths
from lexi_pipelines.documents.registry import sync_project
from lexi_pipelines.operations.client import DagsterClient, DagsterClientError, LaunchError
from lexi_pipelines.operations.submit import INFERENCE_JOB, INFERENCE_OP
from lexi_pipelines_tests.classification import corpus_data
from lexi_pipelines_tests.conftest import REPO_ROOT
from lexi_pipelines_tests.operations.ports import free_port

pytestmark = pytest.mark.cli

PROJECT = "news"
STARTUP_TIMEOUT_S = 120
INSTANCE_YAML = """\
run_coordinator:
  module: dagster._core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: 4
    dequeue_interval_seconds: 1
    tag_concurrency_limits:
      - {key: lexi/queue, value: training, limit: 1}
      # One at a time, so the order in which queued predictions start shows their priority.
      - {key: lexi/queue, value: prediction, limit: 1}
telemetry:
  enabled: false
"""
WORKSPACE_YAML = f"""\
load_from:
  - python_module:
      module_name: lexi_pipelines_tests.operations.jobs_location
      location_name: lexi_pipelines
      working_directory: {REPO_ROOT}
"""


@dataclass
class Server:
    url: str
    env: dict[str, str | None]  # for CliRunner: LEXI_* of this test only
    storage: Path
    log: Path


def _write_project(storage: Path) -> None:
    """The classification tests' corpus: 4 topics x 15 texts, 10 to train and 5 to test."""
    root = storage / PROJECT
    (root / "documents").mkdir(parents=True)
    labels = []
    for topic, texts in corpus_data.TOPICS.items():
        for i, text in enumerate(texts):
            (root / "documents" / f"{topic}-{i:02d}.txt").write_text(text)
            labels.append(f"{topic}-{i:02d}\t{topic}\t{'train' if i < 10 else 'test'}")
    (root / "labels.tsv").write_text("\n".join(labels) + "\n")


def _extract(database_url: str, storage: Path) -> None:
    engine = make_engine(database_url)
    try:
        ensure_schema(engine)
        paths = project_paths(storage, PROJECT)
        sync_project(engine, paths)
        extract_pending(engine, paths, max_bytes=1 << 20)
    finally:
        engine.dispose()


def _wait_for_location(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    with DagsterClient(url, timeout=5) as client:
        while True:
            if process.poll() is not None:
                pytest.fail(f"dagster dev exited with {process.returncode}:\n{log.read_text()}")
            try:
                client.repository_for(INFERENCE_JOB)
                return
            except LaunchError as exc:
                if "failed to load" in str(exc):
                    pytest.fail(str(exc))
            except DagsterClientError:
                pass  # not listening yet, or still loading the location
            if time.monotonic() > deadline:
                pytest.fail(f"dagster dev not ready in {STARTUP_TIMEOUT_S}s:\n{log.read_text()}")
            time.sleep(0.5)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGINT like Ctrl-C (dagster dev then stops its webserver, daemon and code server)."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("jobs-cli")
    lexi_home, dagster_home = base / "lexi", base / "dagster"
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text(INSTANCE_YAML)
    (base / "workspace.yaml").write_text(WORKSPACE_YAML)
    storage = lexi_home / "storage"
    _write_project(storage)
    _extract(f"sqlite:///{lexi_home / 'lexi.db'}", storage)

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # Only this test's settings: no LEXI_* of the caller's shell may leak into the server.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEXI_", "DAGSTER_"))}
    env.update(LEXI_HOME=str(lexi_home), DAGSTER_HOME=str(dagster_home))
    workspace = str(base / "workspace.yaml")
    # `env --default-signal=INT`: a shell started without job control leaves SIGINT ignored
    # in background children, and then our SIGINT (Ctrl-C) would not stop the server.
    command = ["env", "--default-signal=INT", str(Path(sys.executable).with_name("dagster")),
               "dev", "-h", "127.0.0.1", "-p", str(port), "-w", workspace]  # fmt: skip
    log = base / "dagster-dev.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command,
            cwd=base,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for_location(url, process, log)
        cli_env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("LEXI_")}
        cli_env.update(LEXI_HOME=str(lexi_home), LEXI_DAGSTER_URL=url)
        yield Server(url, cli_env, storage, log)
    finally:
        _stop(process)


def lexi(server: Server | None, *args: str) -> Result:
    env = server.env if server else {"LEXI_DAGSTER_URL": None}
    return CliRunner().invoke(app, list(args), env=env)


def _run_id(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()[0].strip()


@pytest.fixture(scope="module")
def trained(server: Server) -> str:
    """The run id of a training run of news/default, followed to its end."""
    result = lexi(server, "jobs", "submit", "training", "--project", PROJECT, "--follow")
    assert result.exit_code == 0, f"{result.output}\n{server.log.read_text()[-3000:]}"
    assert "added partition 'news/default'" in result.stderr
    assert "check model_beats_baseline passed" in result.stdout
    return _run_id(result)


def test_health_reports_every_check(server: Server) -> None:
    deadline = time.monotonic() + 60  # the daemons' first heartbeats follow the webserver's
    while True:
        result = lexi(server, "health")
        if result.exit_code == 0 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ok    webserver") and "(dagster 1.13" in lines[0]
    for name in ("daemon QUEUED_RUN_COORDINATOR", "daemon SCHEDULER", "daemon SENSOR"):
        assert any(line.startswith(f"ok    {name} ") for line in lines), result.output
    assert any(line.startswith("ok    database") and "at head" in line for line in lines)
    assert any(line.startswith("ok    storage") for line in lines)
    assert any(line.startswith("ok    model files") for line in lines)


def test_training_run_is_followed_to_success(server: Server, trained: str) -> None:
    with DagsterClient(server.url) as client:
        run = client.run(trained)
    assert run.status == "SUCCESS"
    assert run.tags["dagster/partition"] == "news/default"
    assert run.tags["lexi/queue"] == "training" and run.tags["dagster/priority"] == "0"
    assert run.tags["lexi/submitted-by"] == "cli"
    assert (server.storage / PROJECT / "models" / "default" / "v1" / "manifest.json").is_file()
    status = lexi(server, "jobs", "status", trained)
    assert status.exit_code == 0, status.output
    assert status.stdout.startswith(f"run {trained}  classification_training_job  SUCCESS")


def test_inference_with_texts_and_a_file(server: Server, trained: str, tmp_path: Path) -> None:
    texts = tmp_path / "texts.jsonl"
    texts.write_text(
        '{"id": "orbit", "text": "The rocket carried the satellite into orbit."}\n'
        '{"text": "Whisk the eggs and bake the cake in the oven."}\n'
    )
    result = lexi(
        server, "jobs", "submit", "inference", "--project", PROJECT,
        "--text", "The striker scored a late goal in the match.",
        "--text", "The central bank raised interest rates.",
        "--file", str(texts), "--priority", "urgent", "--follow",
    )  # fmt: skip
    run_id = _run_id(result)
    assert f"run {run_id} SUCCESS" in result.stdout
    output = server.storage / PROJECT / "predictions" / "default" / "inference" / f"{run_id}.jsonl"
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert [(r["id"], r["label"]) for r in rows] == [
        ("text-1", "sport"),
        ("text-2", "finance"),
        ("orbit", "space"),
        ("line-2", "cooking"),
    ]
    assert all(r["model_version"] == 1 and 0 < r["score"] <= 1 for r in rows)

    with DagsterClient(server.url) as client:
        run = client.run(run_id)
        events, _, _ = client.events(run_id)
    assert run.tags["dagster/priority"] == "10"  # --priority urgent reached the run
    assert run.tags["lexi/queue"] == "prediction" and run.tags["lexi/submitted-by"] == "cli"
    [step_output] = [e for e in events if e.event_type == "STEP_OUTPUT"]
    assert step_output.step_key == INFERENCE_OP
    assert step_output.metadata["model_version"] == "1"
    assert step_output.metadata["count"] == "4"
    assert step_output.metadata["output"] == str(output)
    assert json.loads(step_output.metadata["by_label"]) == {
        "cooking": 1,
        "finance": 1,
        "space": 1,
        "sport": 1,
    }
    assert float(step_output.metadata["predictions_per_s"]) > 0

    listed = lexi(server, "jobs", "list", "--status", "SUCCESS")
    assert listed.exit_code == 0, listed.output
    assert any(
        line.startswith(run_id) and " prediction " in line for line in listed.stdout.splitlines()
    )
    assert any(
        line.startswith(trained) and " training " in line for line in listed.stdout.splitlines()
    )
    failed_only = lexi(server, "jobs", "list", "--status", "failure")
    assert run_id not in failed_only.stdout and trained not in failed_only.stdout


def test_urgent_predictions_start_first_and_failures_are_not_retried(
    server: Server, trained: str
) -> None:
    def submit(field: str, priority: str) -> str:
        args = ["--project", PROJECT, "--field", field, "--text", "x", "--priority", priority]
        return _run_id(lexi(server, "jobs", "submit", "inference", *args))

    # The lane holds one run: `blocker` occupies it while `low`, then `urgent`, wait.
    blocker = submit("topic", "normal")  # no model for news/topic: fails
    low = submit("default", "low")
    urgent = submit("default", "urgent")

    failed = lexi(server, "jobs", "status", blocker, "--follow", "--interval", "0.5")
    assert failed.exit_code == 1, failed.output
    assert "news/topic: no model has passed evaluation yet" in failed.stdout
    assert "retrying" not in failed.stdout  # a permanent failure is not retried
    assert f"run {blocker} FAILURE after" in failed.stdout
    assert lexi(server, "jobs", "status", low, "-f", "--interval", "0.5").exit_code == 0

    with DagsterClient(server.url) as client:
        runs = {run_id: client.run(run_id) for run_id in (blocker, low, urgent)}
    assert [runs[r].tags["dagster/priority"] for r in (blocker, low, urgent)] == ["0", "-10", "10"]
    urgent_start, low_start = runs[urgent].started, runs[low].started
    assert urgent_start is not None and low_start is not None
    assert urgent_start < low_start  # submitted after `low`, started before it


def test_bad_input_is_refused_before_anything_is_queued(server: Server, tmp_path: Path) -> None:
    with DagsterClient(server.url) as client:
        before = len(client.runs(limit=100))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n{"id": "x"}\n')
    result = lexi(server, "jobs", "submit", "inference", "--project", PROJECT, "--file", str(bad))
    assert result.exit_code == 2
    assert f"{bad}: line 2: field 'text' is missing" in result.stderr
    plugin = lexi(
        server, "jobs", "submit", "training", "--project", PROJECT, "--plugins", "classifier=nope"
    )
    assert plugin.exit_code == 2
    assert "unknown classifier 'nope'; registered: [" in plugin.stderr
    with DagsterClient(server.url) as client:
        assert len(client.runs(limit=100)) == before
        with pytest.raises(LaunchError, match=r"invalid run config: .*\(keys: bogus\)"):
            client.launch_run(
                INFERENCE_JOB,
                {"ops": {INFERENCE_OP: {"config": {"project": "p", "field": "f", "bogus": 1}}}},
                {},
            )


def test_status_of_an_unknown_run(server: Server) -> None:
    result = lexi(server, "jobs", "status", "0000-not-a-run", "--follow")
    assert result.exit_code == 2
    assert f"error: run 0000-not-a-run not found at {server.url}" in result.stderr


def test_webserver_down_gives_a_clear_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    lexi_script = Path(sys.executable).with_name("lexi")
    result = subprocess.run(
        [str(lexi_script), "jobs", "list", "--url", url], capture_output=True, text=True
    )
    assert result.returncode == 3
    assert f"error: cannot reach the Dagster webserver at {url}" in result.stderr
    assert "start it with `dagster dev` or set --url" in result.stderr


def test_health_fails_when_the_webserver_is_down(tmp_path: Path) -> None:
    (tmp_path / "home" / "storage").mkdir(parents=True)
    url = f"http://127.0.0.1:{free_port()}"
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("LEXI_")}
    env["LEXI_HOME"] = str(tmp_path / "home")
    result = CliRunner().invoke(app, ["health", "--url", url], env=env)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("FAIL  webserver") and "cannot reach" in lines[0]
    assert any(line.startswith("ok    storage") for line in lines)
    assert lines[-1].endswith("checks passed")
