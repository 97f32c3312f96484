"""The executor choice, and steps on a real Celery worker.

The integration test runs one catalog partition with a Redis broker and a PostgreSQL-backed
instance. The run worker (``dagster asset materialize``) and the Celery worker are separate
processes that share only the Dagster instance, the broker and the environment, as on separate
machines. Each test run gets its own Redis queue, so parallel runs on one Redis do not take
each other's steps.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import redis
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from lexi_pipelines.common.queues import TRAINING_QUEUE, celery_queue_tags
from lexi_pipelines.operations.executors import build_executor, build_io_resources
from lexi_pipelines.settings import DEFAULT_CELERY_URL, LexiSettings
from lexi_pipelines_tests import pg

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKER_CONFIG = REPO_ROOT / "deploy" / "celery.yaml"
VENV_BIN = Path(sys.executable).parent
# DB 7 of the local Redis is reserved for these tests.
REDIS_URL = os.environ.get("LEXI_TEST_REDIS_URL") or "redis://127.0.0.1:6379/7"
PARTITION = "acme-outdoor"
ACME_PRODUCTS = 12
RUN_TIMEOUT_S = 240


def test_multiprocess_keeps_dagsters_default_executor_and_io_manager(tmp_path: Path) -> None:
    settings = LexiSettings.from_env({"LEXI_HOME": str(tmp_path)})
    assert settings.executor == "multiprocess"
    assert build_executor(settings) is None
    assert build_io_resources(settings) == {}


def test_in_process_runs_every_step_in_the_run_worker(tmp_path: Path) -> None:
    settings = LexiSettings.from_env({"LEXI_HOME": str(tmp_path), "LEXI_EXECUTOR": "in_process"})
    assert build_executor(settings) is dg.in_process_executor
    assert build_io_resources(settings) == {}


def test_queue_tag_helper_speaks_dagster_celerys_tag() -> None:
    from dagster_celery.tags import DAGSTER_CELERY_QUEUE_TAG

    assert celery_queue_tags(TRAINING_QUEUE) == {DAGSTER_CELERY_QUEUE_TAG: "training"}


def test_unknown_executor_is_refused_naming_the_variable() -> None:
    with pytest.raises(ValueError, match="LEXI_EXECUTOR='kubernetes'"):
        LexiSettings.from_env({"LEXI_EXECUTOR": "kubernetes"})


def test_celery_executor_reads_broker_from_the_environment_at_run_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEXI_CELERY_BROKER", "redis://broker-a:6379/1")
    monkeypatch.delenv("LEXI_CELERY_BACKEND", raising=False)
    monkeypatch.delenv("LEXI_IO_PATH", raising=False)
    env = {"LEXI_HOME": str(tmp_path), "LEXI_EXECUTOR": "Celery", "LEXI_CELERY_QUEUE": "bulk"}
    settings = LexiSettings.from_env({**env, "LEXI_CELERY_BROKER": "redis://broker-a:6379/1"})
    executor = build_executor(settings)
    assert executor is not None
    # An env reference, not the URL (which may hold a password), is stored with each run.
    monkeypatch.setenv("LEXI_CELERY_BROKER", "redis://broker-b:6379/1")
    mapped = executor.apply_config_mapping({})
    assert mapped.success and mapped.value is not None
    config = mapped.value["config"]
    assert config["broker"] == "redis://broker-b:6379/1"
    assert config["backend"] == DEFAULT_CELERY_URL
    assert config["config_source"] == {"task_default_queue": "bulk"}
    io_manager = build_io_resources(settings)["io_manager"]
    assert isinstance(io_manager, dg.FilesystemIOManager)
    assert io_manager.base_dir == str(tmp_path.resolve() / "io")


def test_io_path_can_be_set_without_celery(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEXI_IO_PATH", str(tmp_path / "shared"))
    settings = LexiSettings.from_env({"LEXI_IO_PATH": str(tmp_path / "shared")})
    assert settings.io_path == (tmp_path / "shared").resolve()
    assert isinstance(build_io_resources(settings)["io_manager"], dg.FilesystemIOManager)


@pytest.fixture
def redis_url() -> str:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        message = f"Redis not answering at {REDIS_URL} ({exc}); scripts/ensure-services starts it"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def dagster_home(postgres_server: str, tmp_path: Path) -> Iterator[Path]:
    """An instance on its own PostgreSQL database: runs and events are shared across processes."""
    url = pg.create_database("lexi_dagster")
    home = tmp_path / "dagster_home"
    home.mkdir()
    # psycopg2: dagster-postgres's NOTIFY fails under psycopg 3 (see dagster.yaml).
    storage_url = make_url(url).set(drivername="postgresql+psycopg2")
    config = {
        "storage": {"postgres": {"postgres_url": storage_url.render_as_string(False)}},
        "telemetry": {"enabled": False},
    }
    (home / "dagster.yaml").write_text(json.dumps(config), encoding="utf-8")  # JSON is YAML
    try:
        yield home
    finally:
        pg.drop_database(url)


def _ancestors(pid: int) -> list[int]:
    """Parent, grandparent, ... of a live process, from /proc."""
    chain = []
    while pid > 1:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
        pid = int(stat.rsplit(")", 1)[1].split()[1])  # the command may contain spaces
        chain.append(pid)
    return chain


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Warm shutdown of the worker's process group, then a kill if it lingers."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _forget_queue(url: str, queue: str) -> None:
    """Drop the broker's bookkeeping of this run's queue (kombu bindings)."""
    client = redis.Redis.from_url(url)
    try:
        for key in client.scan_iter(match=f"*{queue}*"):
            client.delete(key)
    finally:
        client.close()


@pytest.mark.postgres
@pytest.mark.cli
def test_partition_steps_run_in_the_celery_worker(
    redis_url: str,
    dagster_home: Path,
    postgres_url: str,
    catalog_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    queue = f"lexi-test-{uuid.uuid4().hex[:12]}"
    worker_name = f"{queue}-worker"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEXI_", "DAGSTER_"))}
    env.update(
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",  # dagster-celery execs `celery`
        PYTHONWARNINGS="ignore",
        DAGSTER_HOME=str(dagster_home),
        LEXI_HOME=str(tmp_path / "lexi"),
        LEXI_DATABASE_URL=postgres_url,
        LEXI_INGESTION_CONFIG=str(catalog_dir / "ingestion.yaml"),
        LEXI_EXECUTOR="celery",
        LEXI_CELERY_BROKER=redis_url,
        LEXI_CELERY_BACKEND=redis_url,
        LEXI_CELERY_QUEUE=queue,
    )
    worker_log = tmp_path / "worker.log"
    with worker_log.open("wb") as log:
        # Steps are queued in Redis until the worker is ready, so no wait for it here.
        worker = subprocess.Popen(
            [
                str(VENV_BIN / "dagster-celery"), "worker", "start",
                "-A", "dagster_celery.app", "-y", str(WORKER_CONFIG),
                "-q", queue, "-n", worker_name, "-i", "lexi_pipelines.definitions",
                "--", "--pool=solo", "--without-mingle", "--without-gossip",
            ],
            cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as a whole below
        )  # fmt: skip
    try:
        try:
            run = subprocess.run(
                [
                    str(VENV_BIN / "dagster"), "asset", "materialize",
                    "-m", "lexi_pipelines.definitions",
                    "--select", "catalog/brand_registry,catalog/product_feed",
                    "--partition", PARTITION,
                ],
                cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            tail = worker_log.read_text(encoding="utf-8", errors="replace")[-3000:]
            pytest.fail(f"run did not finish in {RUN_TIMEOUT_S}s; worker log:\n{tail}")
        assert run.returncode == 0, f"{run.stderr[-3000:]}\nworker:\n{worker_log.read_text()}"

        monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
        with dg.DagsterInstance.get() as instance:
            (dagster_run,) = instance.get_runs()
            assert dagster_run.status == dg.DagsterRunStatus.SUCCESS
            assert dagster_run.tags["dagster/partition"] == PARTITION
            events = [
                entry.dagster_event
                for entry in instance.all_logs(dagster_run.run_id)
                if entry.dagster_event is not None
            ]
        (run_start,) = [e for e in events if e.event_type == dg.DagsterEventType.RUN_START]
        step_pids = {
            e.step_key: e.pid for e in events if e.event_type == dg.DagsterEventType.STEP_START
        }
        assert {"catalog__brand_registry", "catalog__product_feed"} <= set(step_pids)
        # Each step's hand-off was reported by our worker (dagster-celery's engine event) ...
        engine_metadata = [
            (e.step_key, e.engine_event_data.metadata)
            for e in events
            if e.event_type == dg.DagsterEventType.ENGINE_EVENT
        ]
        celery_hosts = {
            step_key: metadata["Celery worker"].value
            for step_key, metadata in engine_metadata
            if "Celery worker" in metadata
        }
        expected_host = f"{worker_name}@{socket.gethostname()}"
        assert celery_hosts == {key: expected_host for key in step_pids}
        # ... and the steps ran in the worker's process tree, not in the run worker.
        for step_key, pid in step_pids.items():
            assert pid is not None and pid != run_start.pid, step_key
            if Path("/proc/self/stat").exists():
                assert worker.pid in _ancestors(pid), f"{step_key} ran in pid {pid}"
    finally:
        _stop(worker)
        _forget_queue(redis_url, queue)

    engine = sa.create_engine(postgres_url, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            stored = conn.execute(
                sa.text("SELECT count(*) FROM products WHERE ingestor = :ingestor"),
                {"ingestor": PARTITION},
            ).scalar_one()
    finally:
        engine.dispose()
    assert stored == ACME_PRODUCTS
