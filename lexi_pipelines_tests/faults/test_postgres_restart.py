"""PostgreSQL stopped and started again while a feed ingest streams into it.

The run's transaction dies with the server; the step fails with a connection error, which
is no input error, so the transient-fault RetryPolicy runs it again once the server is back
(``pool_pre_ping`` replaces the dead pooled connections). The result must equal an
undisturbed ingest: nothing lost, nothing twice.

The server is shared with every other test (and engineer) on the machine, so this runs only
when asked (``LEXI_FAULT_TESTS=1``) or under CI, which runs the suite serially; the outage
lasts a couple of seconds and the server is started again whatever happens.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from lexi_pipelines_tests import pg
from lexi_pipelines_tests.faults.conftest import (
    bench_ingestor,
    ingest_catalog,
    writing_transactions,
)
from lexi_pipelines_tests.faults.process import Run, RunEnvironment, wait_for
from lexi_pipelines_tests.faults.state import Tables, table_rows

CLUSTERS = Path("/etc/postgresql")  # Debian's layout, as scripts/ensure-services expects
OUTAGE_S = 1.5


def _why_not() -> str | None:
    if os.environ.get("LEXI_FAULT_TESTS") != "1" and os.environ.get("CI") != "true":
        return (
            "stops the shared PostgreSQL server for a few seconds; set LEXI_FAULT_TESTS=1 "
            "to run it (CI runs it, serially)"
        )
    if shutil.which("pg_ctlcluster") is None or not CLUSTERS.is_dir() or os.geteuid() != 0:
        return "needs the local Debian cluster (pg_ctlcluster, /etc/postgresql) and root"
    if make_url(pg.admin_url()).host not in ("127.0.0.1", "localhost"):
        return f"the test server {pg.admin_url()} is not the local cluster"
    return None


pytestmark = [pytest.mark.postgres, pytest.mark.skipif(bool(_why_not()), reason=_why_not() or "")]


def _cluster(action: str) -> None:
    version = sorted(CLUSTERS.iterdir())[-1].name
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action]
    if action == "stop":
        command[1:1] = ["--mode", "fast"]  # abort open transactions, as a crash or failover
    subprocess.run(command, check=True, timeout=60, capture_output=True)


def test_a_restarted_server_mid_ingest_is_retried_to_the_undisturbed_result(
    postgres_url: str, large_catalog: Path, large_feed_reference: Tables, tmp_path: Path
) -> None:
    ingestor = bench_ingestor(large_catalog)
    ingest_catalog(postgres_url, ingestor, feed=False)
    env = RunEnvironment(tmp_path / "home", postgres_url, large_catalog)

    run = Run(env, "feed", ingestor.name)
    wait_for(lambda: writing_transactions(postgres_url), run, "the feed transaction wrote rows")
    try:
        _cluster("stop")
        time.sleep(OUTAGE_S)  # the outage itself: retries meanwhile find no server
    finally:
        _cluster("start")
    assert pg.postgres_available()

    summary = run.summary()
    assert summary["success"], summary
    assert summary["restarts"] >= 1, summary  # the outage was felt, and retried
    assert table_rows(postgres_url) == large_feed_reference
