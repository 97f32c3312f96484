"""The Dagster CLI against the code location: one partition, and a backfill of all of them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import func, select

from lexi_pipelines.db.engine import make_engine
from lexi_pipelines.db.models import Product

pytestmark = pytest.mark.cli

DAGSTER = str(Path(sys.executable).with_name("dagster"))
# No daemon in tests: runs are launched straight away instead of queued.
TEST_INSTANCE_YAML = """\
telemetry:
  enabled: false
run_coordinator:
  module: dagster._core.run_coordinator
  class: DefaultRunCoordinator
"""


def _env(tmp_path: Path, catalog_dir: Path, database_url: str) -> dict[str, str]:
    home = tmp_path / "dagster_home"
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").write_text(TEST_INSTANCE_YAML)
    return {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "LEXI_HOME": str(tmp_path / "lexi"),
        "LEXI_DATABASE_URL": database_url,
        "LEXI_INGESTION_CONFIG": str(catalog_dir / "ingestion.yaml"),
    }


def _run(command: list[str], env: dict[str, str], timeout: int = 180) -> str:
    """Run a command line; fail the test with its stderr when it exits non-zero."""
    completed = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout


def _products(database_url: str) -> dict[str, int]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            counts = conn.execute(
                select(Product.ingestor, func.count()).group_by(Product.ingestor)
            ).all()
        return {ingestor: count for ingestor, count in counts}
    finally:
        engine.dispose()


def test_asset_materialize_one_partition(
    tmp_path: Path, catalog_dir: Path, sqlite_url: str
) -> None:
    env = _env(tmp_path, catalog_dir, sqlite_url)
    _run(
        [
            DAGSTER,
            "asset",
            "materialize",
            "-m",
            "lexi_pipelines.definitions",
            "--select",
            "catalog/brand_registry,catalog/product_feed",
            "--partition",
            "northwind-home",
        ],
        env,
    )
    assert _products(sqlite_url) == {"northwind-home": 6}


def test_job_backfill_all_partitions(tmp_path: Path, catalog_dir: Path, postgres_url: str) -> None:
    # One process per run (not per step): the three runs import the code location three times
    # instead of about twenty; bench_orchestration.py measures the multiprocess executor.
    env = {**_env(tmp_path, catalog_dir, postgres_url), "LEXI_EXECUTOR": "in_process"}
    _run(
        [
            DAGSTER,
            "job",
            "backfill",
            "-m",
            "lexi_pipelines.definitions",
            "-j",
            "catalog_ingest_job",
            "--all",
            "--noprompt",
        ],
        env,
        timeout=300,
    )
    deadline = time.monotonic() + 180
    previous_home = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = env["DAGSTER_HOME"]
    try:
        with dg.DagsterInstance.get() as instance:
            while True:
                runs = instance.get_runs()
                if len(runs) == 3 and all(r.is_finished for r in runs):
                    break
                assert time.monotonic() < deadline, [(r.run_id, r.status) for r in runs]
                time.sleep(1)
            assert {r.tags["dagster/partition"] for r in runs} == {
                "acme-outdoor",
                "northwind-home",
                "mesh-market",
            }
            assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
            assert all(r.tags.get("lexi/queue") == "ingestion" for r in runs)
    finally:
        if previous_home is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = previous_home
    assert _products(postgres_url) == {"acme-outdoor": 12, "northwind-home": 6, "mesh-market": 8}


def test_lexi_demo_runs_on_the_embedded_default(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEXI_", "DAGSTER_"))}
    env["LEXI_HOME"] = str(tmp_path / "lexi")
    lexi = str(Path(sys.executable).with_name("lexi"))
    stdout = _run([lexi, "demo"], env)
    assert "products                 26" in stdout
    assert "documents                5" in stdout
    assert "demo-legal: 3/3 asset checks passed" in stdout
    assert (tmp_path / "lexi" / "storage" / "demo-legal" / "text" / "court-notice.txt").exists()
    assert "dagster dev" in stdout
    assert (tmp_path / "lexi" / "lexi.db").exists()
    assert (tmp_path / "lexi" / "dagster" / "dagster.yaml").exists()


def test_lexi_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEXI_", "DAGSTER_"))}
    env["LEXI_DATABASE_URL"] = f"sqlite:///{tmp_path / 'fresh.db'}"
    lexi = str(Path(sys.executable).with_name("lexi"))
    from lexi_pipelines.db.engine import head_revision

    assert f"at {head_revision()}" in _run([lexi, "db", "upgrade"], env, timeout=60)
