"""Checks for the deployment files: docker-compose.yml, Dockerfile, dagster.yaml, workspaces.

Deliberately does not import ``lexi_pipelines``: these tests cover the deployment wiring only.
The Postgres test builds a real Dagster instance from the repository's dagster.yaml.
"""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa
import yaml
from dagster._config import EvaluateValueResult, process_config
from dagster._core.instance.config import dagster_instance_config
from dagster._core.storage.config import pg_config
from dagster_postgres.utils import pg_url_from_config
from sqlalchemy.engine import make_url

REPO_ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
DOCKERFILE = REPO_ROOT / "Dockerfile"
DAGSTER_YAML = REPO_ROOT / "dagster.yaml"
LOCAL_WORKSPACE = REPO_ROOT / "workspace.yaml"
CELERY_WORKER_CONFIG = REPO_ROOT / "deploy" / "celery.yaml"

DEFINITIONS_MODULE = "lexi_pipelines.definitions"
LOCATION_NAME = "lexi_pipelines"
DAGSTER_SERVICES = ("user_code", "webserver", "daemon", "celery_worker")
CELERY_PROFILE = ("redis", "celery_worker")
PG_ENV_VARS = (
    "DAGSTER_PG_USERNAME",
    "DAGSTER_PG_PASSWORD",
    "DAGSTER_PG_HOST",
    "DAGSTER_PG_DB",
    "DAGSTER_PG_PORT",
)
EXPECTED_TAG_LIMITS = {
    ("lexi/queue", "ingestion"): 2,
    ("lexi/queue", "training"): 1,
    ("lexi/queue", "prediction"): 4,
    ("lexi/queue", "indexing"): 2,
}


def _load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _environment(service: Mapping[str, Any]) -> dict[str, str]:
    """A service's environment as a dict, whichever compose syntax (mapping or list) it uses."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (str(item).partition("=") for item in env)
        return {key: value for key, _, value in pairs}
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def _mounts(service: Mapping[str, Any]) -> dict[str, str]:
    """Container path -> source (host path or named volume) for a service's volumes."""
    mounts: dict[str, str] = {}
    for volume in service.get("volumes") or []:
        if isinstance(volume, Mapping):
            mounts[str(volume["target"])] = str(volume.get("source", ""))
        else:
            source, _, rest = str(volume).partition(":")
            mounts[rest.partition(":")[0]] = source
    return mounts


def _option(command: list[str], *flags: str) -> str:
    for index, arg in enumerate(command[:-1]):
        if arg in flags:
            return command[index + 1]
    raise AssertionError(f"none of {flags} in command {command}")


def _command(service: Mapping[str, Any]) -> list[str]:
    command = service.get("command")
    if isinstance(command, str):
        return command.split()
    assert isinstance(command, list), f"service has no command: {service}"
    return [str(arg) for arg in command]


def _host_path(source: str) -> Path:
    path = Path(source)
    return path if path.is_absolute() else (REPO_ROOT / path).resolve()


# --------------------------------------------------------------------------- docker-compose.yml


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = _load_yaml(COMPOSE_FILE)
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    result = compose.get("services")
    assert isinstance(result, dict)
    return result


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose not on PATH")
def test_compose_file_is_valid_for_docker_compose() -> None:
    docker_compose = shutil.which("docker-compose")
    assert docker_compose is not None
    proc = subprocess.run(
        [docker_compose, "-f", str(COMPOSE_FILE), "config", "-q"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


def test_compose_defines_the_four_services(services: dict[str, Any]) -> None:
    assert {"postgres", *DAGSTER_SERVICES} <= set(services)


def test_postgres_has_healthcheck_and_volume(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    postgres = services["postgres"]
    assert str(postgres["image"]).startswith("postgres:16")
    test = postgres["healthcheck"]["test"]
    assert "pg_isready" in (test if isinstance(test, str) else " ".join(test))
    assert _mounts(postgres).get("/var/lib/postgresql/data") == "postgres_data"
    assert "postgres_data" in (compose.get("volumes") or {})
    env = _environment(postgres)
    for var in ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"):
        assert var in env


def test_only_the_webserver_is_published_and_only_on_loopback(services: dict[str, Any]) -> None:
    ports = services["webserver"].get("ports") or []
    assert ports, "webserver must publish the UI"
    for port in ports:
        spec = port if isinstance(port, str) else f"{port.get('host_ip')}:{port.get('published')}"
        assert spec.startswith("127.0.0.1:"), f"webserver port not loopback-only: {port!r}"
    for name in ("postgres", "user_code", "daemon"):
        assert not services[name].get("ports"), f"{name} must not publish ports"


def test_dagster_services_share_one_instance_config(services: dict[str, Any]) -> None:
    envs = {name: _environment(services[name]) for name in DAGSTER_SERVICES}
    homes = {env.get("DAGSTER_HOME") for env in envs.values()}
    assert len(homes) == 1 and None not in homes, f"DAGSTER_HOME differs: {homes}"
    (home,) = homes
    for var in PG_ENV_VARS:
        values = {env.get(var) for env in envs.values()}
        assert len(values) == 1 and None not in values, f"{var} differs: {values}"
    assert {env["DAGSTER_PG_HOST"] for env in envs.values()} == {"postgres"}

    for name in DAGSTER_SERVICES:
        source = _mounts(services[name]).get(f"{home}/dagster.yaml")
        assert source is not None, f"{name} does not mount dagster.yaml into DAGSTER_HOME"
        assert _host_path(source) == DAGSTER_YAML


def test_dagster_services_wait_for_healthy_postgres(services: dict[str, Any]) -> None:
    for name in DAGSTER_SERVICES:
        depends_on = services[name].get("depends_on")
        assert isinstance(depends_on, dict), f"{name}: depends_on needs the long syntax"
        assert depends_on["postgres"]["condition"] == "service_healthy"


def test_user_code_serves_the_definitions_module(services: dict[str, Any]) -> None:
    user_code = services["user_code"]
    command = _command(user_code)
    assert command[:3] == ["dagster", "code-server", "start"]
    assert _option(command, "-m", "--module-name") == DEFINITIONS_MODULE
    assert _option(command, "-h", "--host") == "0.0.0.0"
    assert _option(command, "-p", "--port") == "4000"

    env = _environment(user_code)
    assert env["LEXI_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "@postgres:5432/" in env["LEXI_DATABASE_URL"]
    mounts = _mounts(user_code)
    for var in ("LEXI_HOME", "LEXI_STORAGE_PATH"):
        path = env[var]
        assert any(
            path == target or path.startswith(f"{target}/")
            for target, source in mounts.items()
            if not source.startswith((".", "/"))  # a named volume, not a bind mount
        ), f"{var}={path} is not on a named volume"


def test_webserver_and_daemon_load_code_over_grpc(services: dict[str, Any]) -> None:
    local_location = _load_yaml(LOCAL_WORKSPACE)["load_from"][0]["python_module"]
    for name, entry in (("webserver", "dagster-webserver"), ("daemon", "dagster-daemon")):
        service = services[name]
        command = _command(service)
        assert command[0] == entry
        workspace_path = _option(command, "-w", "--workspace")
        source = _mounts(service).get(workspace_path)
        assert source is not None, f"{name} does not mount a workspace at {workspace_path}"
        workspace = _load_yaml(_host_path(source))
        (location,) = workspace["load_from"]
        grpc = location["grpc_server"]
        assert grpc["host"] == "user_code"
        assert int(grpc["port"]) == 4000
        assert grpc["location_name"] == local_location["location_name"] == LOCATION_NAME


def test_dockerfile_bakes_in_dagster_yaml(services: dict[str, Any]) -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert "FROM python:3.11-slim" in text.splitlines()
    home = _environment(services["webserver"])["DAGSTER_HOME"]
    assert f"DAGSTER_HOME={home}" in text
    assert "dagster.yaml ${DAGSTER_HOME}/dagster.yaml" in text
    assert "download.pytorch.org/whl/cpu" in text  # torch only via the CPU index, when asked


# ------------------------------------------------------------ docker-compose.yml: celery profile


def test_celery_profile_is_opt_in(services: dict[str, Any]) -> None:
    for name in CELERY_PROFILE:
        assert services[name].get("profiles") == ["celery"], name
    for name in ("postgres", "user_code", "webserver", "daemon"):
        assert not services[name].get("profiles"), f"{name} must start without a profile"
        # Compose refuses a dependency on a service whose profile is off.
        assert not set(services[name].get("depends_on") or {}) & set(CELERY_PROFILE), name


def test_redis_is_private_persistent_and_healthchecked(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    redis = services["redis"]
    assert str(redis["image"]).startswith("redis:")
    assert not redis.get("ports"), "redis must not publish ports"
    test = redis["healthcheck"]["test"]
    assert "ping" in (test if isinstance(test, str) else " ".join(test))
    assert _mounts(redis).get("/data") == "redis_data"
    assert "redis_data" in (compose.get("volumes") or {})


def test_celery_workers_share_the_code_servers_settings_and_volumes(
    services: dict[str, Any],
) -> None:
    worker, user_code = services["celery_worker"], services["user_code"]
    assert "container_name" not in worker, "--scale celery_worker=N needs generated names"
    assert worker["image"] == user_code["image"]
    worker_env, code_env = _environment(worker), _environment(user_code)
    assert worker_env["LEXI_EXECUTOR"] == "celery"
    assert code_env["LEXI_EXECUTOR"] == "${LEXI_EXECUTOR:-multiprocess}"
    assert code_env["LEXI_CELERY_BROKER"].startswith("redis://redis:6379/")
    # Workers rebuild each step's job from the settings the run worker used.
    for var, value in code_env.items():
        if var != "LEXI_EXECUTOR":
            assert worker_env.get(var) == value, var
    worker_mounts, code_mounts = _mounts(worker), _mounts(user_code)
    # Step outputs ($LEXI_HOME/io), storage and compute logs are on shared volumes.
    assert worker_mounts[code_env["LEXI_HOME"]] == code_mounts[code_env["LEXI_HOME"]]
    storage = f"{code_env['DAGSTER_HOME']}/storage"
    assert worker_mounts[storage] == code_mounts[storage] == "dagster_storage"
    assert worker["depends_on"]["redis"]["condition"] == "service_healthy"


def test_celery_worker_command(services: dict[str, Any]) -> None:
    worker = services["celery_worker"]
    command = _command(worker)
    # Celery itself as the container's process, so SIGTERM reaches it (warm shutdown).
    assert command[0] == "celery" and "worker" in command
    assert _option(command, "-A", "--app") == "dagster_celery.app"
    assert _option(command, "-I", "--include") == "lexi_pipelines.definitions"
    env = _environment(worker)
    queues = _option(command, "-Q", "--queues").split(",")
    assert queues[0] == env["LEXI_CELERY_QUEUE"]
    # The broker the runs submit to (LEXI_*) is the one the worker reads (CELERY_*).
    assert env["CELERY_BROKER_URL"] == env["LEXI_CELERY_BROKER"]
    assert env["CELERY_RESULT_BACKEND"] == env["LEXI_CELERY_BACKEND"]
    # One step per process (prefork children are daemonic and cannot start process pools),
    # and no step reserved by a busy worker.
    assert "--pool=solo" in command
    assert "--prefetch-multiplier=1" in command


def test_celery_worker_config_is_valid_executor_config(monkeypatch: pytest.MonkeyPatch) -> None:
    from dagster_celery.cli import get_validated_config

    monkeypatch.setenv("LEXI_CELERY_BROKER", "redis://redis:6379/0")
    monkeypatch.setenv("LEXI_CELERY_BACKEND", "redis://redis:6379/1")
    config = get_validated_config(str(CELERY_WORKER_CONFIG))
    assert (config["broker"], config["backend"]) == ("redis://redis:6379/0", "redis://redis:6379/1")


# ------------------------------------------------------------------------------- dagster.yaml


@pytest.fixture(scope="module")
def dagster_yaml() -> dict[str, Any]:
    data = _load_yaml(DAGSTER_YAML)
    assert isinstance(data, dict)
    return data


def _configurable_classes(node: Any) -> Iterator[tuple[str, str]]:
    if isinstance(node, Mapping):
        if "module" in node and "class" in node:
            yield str(node["module"]), str(node["class"])
        for value in node.values():
            yield from _configurable_classes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _configurable_classes(value)


def test_dagster_yaml_module_paths_import(dagster_yaml: dict[str, Any]) -> None:
    assert "dagster.core." not in DAGSTER_YAML.read_text(encoding="utf-8")
    classes = list(_configurable_classes(dagster_yaml))
    assert classes
    for module, cls in classes:
        assert not module.startswith("dagster.core"), module
        assert hasattr(importlib.import_module(module), cls), f"{module}.{cls}"


def test_dagster_yaml_uses_postgres_with_psycopg2(dagster_yaml: dict[str, Any]) -> None:
    db = dagster_yaml["storage"]["postgres"]["postgres_db"]
    assert db["scheme"] == "postgresql+psycopg2"
    assert importlib.util.find_spec("psycopg2") is not None, "psycopg2 driver not installed"
    env_refs = {key: value["env"] for key, value in db.items() if isinstance(value, dict)}
    assert env_refs == {
        "username": "DAGSTER_PG_USERNAME",
        "password": "DAGSTER_PG_PASSWORD",
        "hostname": "DAGSTER_PG_HOST",
        "db_name": "DAGSTER_PG_DB",
        "port": "DAGSTER_PG_PORT",
    }


def test_dagster_yaml_queues_runs_with_tag_limits(dagster_yaml: dict[str, Any]) -> None:
    coordinator = dagster_yaml["run_coordinator"]
    assert coordinator["class"] == "QueuedRunCoordinator"
    config = coordinator["config"]
    assert config["max_concurrent_runs"] > 0
    limits = {
        (item["key"], json.dumps(item.get("value"))): item["limit"]
        for item in config["tag_concurrency_limits"]
    }
    for (key, value), limit in EXPECTED_TAG_LIMITS.items():
        assert limits.get((key, json.dumps(value))) == limit, key
    assert ("dagster/backfill", "null") in limits
    # One run per partition key at a time, across jobs.
    per_partition = json.dumps({"applyLimitPerUniqueValue": True})
    assert limits[("dagster/partition", per_partition)] == 1
    from dagster._core.run_coordinator import QueuedRunCoordinator

    assert process_config(QueuedRunCoordinator.config_type(), config).success
    assert dagster_yaml["run_launcher"]["class"] == "DefaultRunLauncher"


def test_dagster_yaml_monitoring_and_retries(dagster_yaml: dict[str, Any]) -> None:
    monitoring = dagster_yaml["run_monitoring"]
    assert monitoring["enabled"] is True
    # DefaultRunLauncher cannot resume runs; a non-zero value makes the instance fail to load.
    assert monitoring["max_resume_run_attempts"] == 0
    assert dagster_yaml["run_retries"] == {
        "enabled": True,
        "max_retries": 2,
        "retry_on_asset_or_op_failure": False,
    }
    assert dagster_yaml["telemetry"] == {"enabled": False}


def _pg_env(
    monkeypatch: pytest.MonkeyPatch, *, user: str, password: str, host: str, db: str, port: int
) -> None:
    for var, value in zip(PG_ENV_VARS, (user, password, host, db, str(port)), strict=True):
        monkeypatch.setenv(var, value)


def _dagster_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DAGSTER_YAML, home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def _process_storage_config(home: Path) -> EvaluateValueResult[Any]:
    """Validate dagster.yaml like the instance does, then resolve the `{env: ...}` sources of
    the Postgres storage block (that only happens when the storage class is built)."""
    config, custom_class = dagster_instance_config(str(home))
    assert custom_class is None
    return process_config(pg_config(), config["storage"]["postgres"])


def test_dagster_yaml_validates_with_empty_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No server needed: an empty password yields a `user@host` URL, fit for trust auth."""
    home = _dagster_home(tmp_path, monkeypatch)
    _pg_env(monkeypatch, user="lexi", password="", host="db.internal", db="dagster", port=5433)
    result = _process_storage_config(home)
    assert result.success, result.errors
    assert result.value is not None
    url = pg_url_from_config(result.value)
    assert url == "postgresql+psycopg2://lexi@db.internal:5433/dagster"


def test_dagster_yaml_requires_password_variable_to_be_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = _dagster_home(tmp_path, monkeypatch)
    _pg_env(monkeypatch, user="lexi", password="", host="db.internal", db="dagster", port=5432)
    monkeypatch.delenv("DAGSTER_PG_PASSWORD")
    result = _process_storage_config(home)
    assert not result.success
    assert any("DAGSTER_PG_PASSWORD" in error.message for error in result.errors or [])


# ------------------------------------------------------------------- dagster.yaml on Postgres


@dg.asset
def lexi_deploy_probe() -> int:
    return 1


@pytest.mark.postgres
def test_instance_from_dagster_yaml_stores_runs_in_postgres(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `postgres_url` (conftest): a fresh database, dropped afterwards; a failure under CI.
    _dagster_home(tmp_path, monkeypatch)
    url = make_url(postgres_url)
    _pg_env(
        monkeypatch,
        user=url.username or "postgres",
        password=url.password or "",  # may be empty under trust auth
        host=url.host or "127.0.0.1",
        db=url.database or "",
        port=url.port or 5432,
    )

    with dg.DagsterInstance.get() as instance:
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert instance.get_runs() == []
        # Storing events issues NOTIFY with a bound parameter: this is what fails with
        # `syntax error at or near "$1"` if the scheme falls back to psycopg 3.
        result = dg.materialize([lexi_deploy_probe], instance=instance)
        assert result.success
        assert [run.run_id for run in instance.get_runs()] == [result.run_id]

    engine = sa.create_engine(postgres_url, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            status = conn.execute(
                sa.text("SELECT status FROM runs WHERE run_id = :run_id"),
                {"run_id": result.run_id},
            ).scalar_one()
            materializations = conn.execute(
                sa.text(
                    "SELECT count(*) FROM event_logs WHERE run_id = :run_id"
                    " AND dagster_event_type = 'ASSET_MATERIALIZATION'"
                    " AND asset_key LIKE '%lexi_deploy_probe%'"
                ),
                {"run_id": result.run_id},
            ).scalar_one()
    finally:
        engine.dispose()
    assert status == "SUCCESS"
    assert materializations == 1


# ---------------------------------------------------------------------------- workspace.yaml


def test_local_workspace_loads_the_definitions_module() -> None:
    workspace = _load_yaml(LOCAL_WORKSPACE)
    (location,) = workspace["load_from"]
    assert location["python_module"]["module_name"] == DEFINITIONS_MODULE
    assert location["python_module"]["location_name"] == LOCATION_NAME
