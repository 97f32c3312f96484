"""Orchestration benchmark: definitions load, one partition, and a backfill of every catalog
partition with the multiprocess executor and on 1 and 2 Celery workers.

Measures, each as wall time of the CLI a user would type:

- loading ``lexi_pipelines.definitions`` in a fresh interpreter (median of ``--repeat``);
- ``dagster asset materialize`` of one demo partition (registry + feed + their checks) on the
  embedded default (SQLite instance and database), cold (new database) and warm (unchanged);
- ``dagster job backfill --all`` of the catalog's registry + feed over every partition, from
  launch until the last run has finished, on a PostgreSQL instance and database (fresh ones per
  mode, so every mode ingests from scratch). A code server launches all runs at once (no run
  queue); their steps run in subprocesses (``multiprocess``) or on ``dagster-celery`` workers
  (``--pool=solo``) over Redis, 1 and 2 of them, started and warm beforehand;
- the same Celery backfills with the CLI's launching left out ("gated"): the workers take no
  step until every run is launched and has queued its first one, then the clock starts. The
  CLI launches runs one after the other, so end to end it can hide what a second worker adds.

The demo catalog has three ingestors; ``--ingestors`` more are generated with ``feedgen`` so
the backfill has enough partitions to spread. Product vectors are left out of the backfilled
job on purpose: model time would swamp the orchestration being measured.

    python benchmarks/bench_orchestration.py [--ingestors 5] [--products 20000] [--workers 1,2]

Needs PostgreSQL (``LEXI_TEST_DATABASE_URL`` or the local default) and Redis (``--redis-url``,
DB 8 by default) for the backfills; ``--skip-backfill`` measures the first two only.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, cast

import dagster as dg

REPO_ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
DEMO_CATALOG = REPO_ROOT / "lexi_pipelines" / "demo_data" / "catalog"
WORKER_CONFIG = REPO_ROOT / "deploy" / "celery.yaml"
DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BENCH_JOB = "catalog_feed_bench_job"
ONE_PARTITION = "acme-outdoor"
SELECTION = "catalog/brand_registry,catalog/product_feed"
CODE_SERVER_PORT = 3391  # this benchmark's share of 3300-3399
TERMINAL = ("SUCCESS", "FAILURE", "CANCELED")


@dg.definitions
def bench_defs() -> dg.Definitions:
    """The code location plus a job over registry + feed (their checks come with them)."""
    from lexi_pipelines import definitions as location
    from lexi_pipelines.catalog.assets import brand_registry, product_feed
    from lexi_pipelines.common.queues import queue

    job = dg.define_asset_job(
        BENCH_JOB,
        selection=dg.AssetSelection.assets(brand_registry, product_feed),
        tags=queue("ingestion"),
    )
    return dg.Definitions.merge(location.defs, dg.Definitions(jobs=[job]))


# ------------------------------------------------------------------------------------ helpers


def base_env(**extra: str) -> dict[str, str]:
    """The caller's environment without LEXI_*/DAGSTER_* settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEXI_", "DAGSTER_"))}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONWARNINGS"] = "ignore"
    env.update(extra)
    return env


def timed(command: list[str], env: dict[str, str], timeout: float = 900) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{proc.stderr[-4000:]}")
    return elapsed


def build_catalog(root: Path, ingestors: int, products: int) -> Path:
    """The demo catalog plus ``ingestors`` generated ones; returns the ingestion.yaml."""
    import yaml

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from feedgen import generate_catalog

    shutil.copytree(DEMO_CATALOG, root)
    config_path = root / "ingestion.yaml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    for i in range(ingestors):
        name = f"gen-{i:02d}"
        generate_catalog(root / name, products, seed=i, org_urn=f"urn:cmp:orgid:bench-{i:04d}")
        config["ingestion"].append(
            {
                "name": name,
                "source_type": "local",
                "registry": f"{name}/brand-registry.jsonld",
                "feed_path": f"{name}/feed/feed.json",
                "schedule": "0 3 * * *",
            }
        )
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return config_path


@contextmanager
def scratch_database(admin_url: str, prefix: str) -> Iterator[str]:
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def background(command: list[str], env: dict[str, str], log: Path) -> Iterator[Path]:
    """A long-running process in its own process group, stopped (group-wide) on exit."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        yield log
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def wait_for_line(log: Path, needle: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if needle in log.read_text(encoding="utf-8", errors="replace"):
            return
        time.sleep(0.2)
    tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
    raise RuntimeError(f"{log.name}: no {needle!r} after {timeout:.0f}s:\n{tail}")


def run_statuses(instance_url: str) -> list[str]:
    import sqlalchemy as sa

    engine = sa.create_engine(instance_url, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            return [str(row[0]) for row in conn.execute(sa.text("SELECT status FROM runs"))]
    except sa.exc.ProgrammingError:  # tables not created yet
        return []
    finally:
        engine.dispose()


def forget_queue(redis_url: str, queue: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        for key in client.scan_iter(match=f"*{queue}*"):
            client.delete(key)
    finally:
        client.close()


# ---------------------------------------------------------------------------------- measures


def definitions_load(env: dict[str, str], repeat: int) -> float:
    command = [sys.executable, "-c", "import lexi_pipelines.definitions"]
    return statistics.median(timed(command, env) for _ in range(repeat))


def one_partition(tmp: Path, config: Path) -> tuple[float, float]:
    home = tmp / "dagster-sqlite"
    home.mkdir()
    env = base_env(
        DAGSTER_HOME=str(home),
        LEXI_HOME=str(tmp / "lexi-sqlite"),
        LEXI_INGESTION_CONFIG=str(config),
    )
    command = [
        "dagster", "asset", "materialize", "-m", "lexi_pipelines.definitions",
        "--select", SELECTION, "--partition", ONE_PARTITION,
    ]  # fmt: skip
    return timed(command, env), timed(command, env)


def worker_command(queue: str, name: str) -> list[str]:
    """A solo-pool worker as in Compose: one step at a time, the code location preloaded."""
    return [
        "dagster-celery", "worker", "start", "-A", "dagster_celery.app",
        "-y", str(WORKER_CONFIG), "-q", queue, "-n", name, "-i", "lexi_pipelines.definitions",
        "--", "--pool=solo", "--without-mingle", "--without-gossip",
    ]  # fmt: skip


def queued_steps(redis_url: str, queue: str) -> int:
    """Messages waiting in a queue (kombu keeps one Redis list per queue and priority)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    total = 0
    try:
        for key in client.scan_iter(match=f"{queue}*"):
            if client.type(key) == b"list":
                total += cast(int, client.llen(key))  # typed as maybe-async by redis-py
    finally:
        client.close()
    return total


def open_queue(redis_url: str, queue: str, workers: list[str]) -> None:
    """Tell the (idle, warm) workers to start taking steps from ``queue``."""
    from celery import Celery

    app = Celery(broker=redis_url)
    replies = app.control.add_consumer(queue, destination=workers, reply=True, timeout=10)
    if len(replies) != len(workers):
        raise RuntimeError(f"add_consumer: {len(replies)} of {len(workers)} workers replied")


def wait_for_runs(
    instance_url: str, partitions: int, deadline: float, done: tuple[str, ...]
) -> list[str]:
    statuses: list[str] = []
    while time.perf_counter() < deadline:
        statuses = run_statuses(instance_url)
        if len(statuses) >= partitions and all(s in done for s in statuses):
            return statuses
        time.sleep(0.25)
    raise RuntimeError(f"runs not {'/'.join(done)} in time: {statuses}")


def backfill(
    tmp: Path,
    config: Path,
    admin_url: str,
    redis_url: str,
    workers: int,
    partitions: int,
    timeout: float,
    gated: bool = False,
) -> dict[str, Any]:
    """Wall time of one CLI backfill; ``workers == 0`` means the multiprocess executor.

    ``gated``: the workers take no step until every run is launched and has queued its first
    step; the time from then on measures the workers alone, without the CLI's launching.
    """
    from sqlalchemy.engine import make_url

    label = "multiprocess" if workers == 0 else f"celery-{workers}" + ("-gated" if gated else "")
    queue = f"lexi-bench-{uuid.uuid4().hex[:8]}"
    with ExitStack() as stack:
        instance_url = stack.enter_context(scratch_database(admin_url, "lexi_bench_dagster"))
        app_url = stack.enter_context(scratch_database(admin_url, "lexi_bench_app"))
        home = tmp / f"dagster-{label}"
        home.mkdir()
        storage_url = make_url(instance_url).set(drivername="postgresql+psycopg2")
        instance_config = {
            "storage": {"postgres": {"postgres_url": storage_url.render_as_string(False)}},
            # Launch every run at once: Dagster's default queue would wait for a daemon.
            "run_coordinator": {
                "module": "dagster._core.run_coordinator",
                "class": "DefaultRunCoordinator",
            },
            "telemetry": {"enabled": False},
        }
        (home / "dagster.yaml").write_text(json.dumps(instance_config), encoding="utf-8")
        env = base_env(
            DAGSTER_HOME=str(home),
            LEXI_HOME=str(tmp / f"lexi-{label}"),
            LEXI_DATABASE_URL=app_url,
            LEXI_INGESTION_CONFIG=str(config),
            LEXI_EXECUTOR="celery" if workers else "multiprocess",
            LEXI_CELERY_BROKER=redis_url,
            LEXI_CELERY_BACKEND=redis_url,
            LEXI_CELERY_QUEUE=queue,
        )
        code_server_command = [
            "dagster", "code-server", "start", "-h", "127.0.0.1",
            "-p", str(CODE_SERVER_PORT), "-f", __file__, "-a", "bench_defs",
        ]  # fmt: skip
        code_server = stack.enter_context(
            background(code_server_command, env, tmp / f"code-server-{label}.log")
        )
        names = [f"{queue}-{i}" for i in range(workers)]
        listen = f"{queue}-hold" if gated else queue
        worker_logs = [
            stack.enter_context(
                background(worker_command(listen, name), env, tmp / f"{label}-{name}.log")
            )
            for name in names
        ]
        if workers:
            stack.callback(forget_queue, redis_url, queue)
        wait_for_line(code_server, "Started Dagster code server")
        for log in worker_logs:
            wait_for_line(log, " ready.")

        backfill_command = [
            "dagster", "job", "backfill", "--grpc-host", "127.0.0.1",
            "--grpc-port", str(CODE_SERVER_PORT), "-j", BENCH_JOB, "--all", "true", "--noprompt",
        ]  # fmt: skip
        start = time.perf_counter()
        deadline = start + timeout
        timed(backfill_command, env)
        launched = time.perf_counter() - start
        if gated:
            wait_for_runs(instance_url, partitions, deadline, ("STARTED",))
            while queued_steps(redis_url, queue) < partitions:  # one first step per run
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"{label}: first steps not queued in time")
                time.sleep(0.25)
            start = time.perf_counter()
            open_queue(redis_url, queue, [f"{name}@{socket.gethostname()}" for name in names])
        statuses = wait_for_runs(instance_url, partitions, deadline, TERMINAL)
        wall = time.perf_counter() - start
    return {
        "mode": label,
        "wall_s": wall,
        "launch_s": launched,
        "runs": len(statuses),
        "succeeded": statuses.count("SUCCESS"),
    }


def backfill_rows(
    args: argparse.Namespace,
    admin_url: str,
    tmp: Path,
    config: Path,
    partitions: int,
    worker_counts: list[int],
) -> list[tuple[str, str]]:
    """End to end: multiprocess, then each worker count; then each count gated (workers only)."""
    rows: list[tuple[str, str]] = []
    walls: dict[tuple[int, bool], float] = {}
    plan = [(0, False)] + [(n, False) for n in worker_counts] + [(n, True) for n in worker_counts]
    for workers, gated in plan:
        result = backfill(
            tmp, config, admin_url, args.redis_url, workers, partitions, args.timeout, gated
        )
        walls[workers, gated] = result["wall_s"]
        print(f"  {result} (load average {load_average()})", flush=True)
        ok = f"{result['succeeded']}/{result['runs']} runs ok"
        if gated:
            name = f"{partitions} partitions' steps, {workers} warm worker(s), launch excluded"
            rows.append((name, f"{result['wall_s']:.1f} s ({ok})"))
            continue
        after = result["wall_s"] - result["launch_s"]
        rows.append(
            (
                f"backfill {partitions} partitions, {result['mode']}",
                f"{result['wall_s']:.1f} s (CLI launching {result['launch_s']:.1f} s, then "
                f"{after:.1f} s to the last run's end; {ok})",
            )
        )
    for workers in worker_counts:
        speed_up = walls[0, False] / walls[workers, False]
        rows.append((f"celery-{workers} vs multiprocess, end to end", f"{speed_up:.2f}x"))
    if 1 in worker_counts and 2 in worker_counts:
        for gated, what in ((False, "end to end"), (True, "launch excluded")):
            ratio = walls[1, gated] / walls[2, gated]
            rows.append((f"2 workers vs 1, {what}", f"{ratio:.2f}x"))
    return rows


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--ingestors", type=int, default=5, help="generated ingestors to add")
    parser.add_argument("--products", type=int, default=20_000, help="products per generated one")
    parser.add_argument("--workers", default="1,2", help="Celery worker counts to measure")
    parser.add_argument("--repeat", type=int, default=3, help="definitions loads to time")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/8")
    parser.add_argument("--admin-url", default=os.environ.get("LEXI_TEST_DATABASE_URL"))
    parser.add_argument("--timeout", type=float, default=1200, help="seconds per backfill")
    parser.add_argument("--skip-backfill", action="store_true")
    args = parser.parse_args(argv)
    admin_url = args.admin_url or DEFAULT_ADMIN_URL
    worker_counts = [int(n) for n in args.workers.split(",") if n.strip()]

    # A plain `kill` still stops the workers and drops the scratch databases (finally blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = Path(tempfile.mkdtemp(prefix="lexi-bench-orch-"))
    try:
        config = build_catalog(tmp / "catalog", args.ingestors, args.products)
        partitions = 3 + args.ingestors
        print(f"cpus {os.cpu_count()}, load average {load_average()}; {partitions} partitions")
        rows: list[tuple[str, str]] = []
        env = base_env(LEXI_HOME=str(tmp / "lexi-load"), LEXI_INGESTION_CONFIG=str(config))
        load_s = definitions_load(env, args.repeat)
        rows.append((f"definitions load (median of {args.repeat})", f"{load_s:.2f} s"))
        cold, warm = one_partition(tmp, config)
        rows.append((f"one partition ({ONE_PARTITION}), SQLite, cold", f"{cold:.2f} s"))
        rows.append((f"one partition ({ONE_PARTITION}), SQLite, unchanged", f"{warm:.2f} s"))
        if not args.skip_backfill:
            rows += backfill_rows(args, admin_url, tmp, config, partitions, worker_counts)
        width = max(len(name) for name, _ in rows)
        print(f"\n{'measure'.ljust(width)}  value\n{'-' * width}  -----")
        for name, value in rows:
            print(f"{name.ljust(width)}  {value}")
        print(f"\nload average at the end {load_average()}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
