"""Shared fixtures: databases (SQLite and a real PostgreSQL), demo data copies, resources."""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from sqlalchemy import select

from lexi_pipelines.catalog.resources import CatalogSourceResource
from lexi_pipelines.common.resources import DatabaseResource
from lexi_pipelines.db.engine import make_engine
from lexi_pipelines.db.models import Base
from lexi_pipelines_tests import pg
from lexi_pipelines_tests.common.loopback_smtp import LoopbackSMTP

REPO_ROOT = Path(__file__).resolve().parents[1]
DEMO_CATALOG = REPO_ROOT / "lexi_pipelines" / "demo_data" / "catalog"
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


def pytest_configure(config: pytest.Config) -> None:
    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    warnings.filterwarnings("ignore", category=dg.PreviewWarning)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The admin URL of the test PostgreSQL server; under CI its absence is a failure."""
    if not pg.postgres_available():
        message = f"PostgreSQL not reachable at {pg.admin_url()} (set LEXI_TEST_DATABASE_URL)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return pg.admin_url()


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    url = pg.create_database("lexi_test")
    try:
        yield url
    finally:
        pg.drop_database(url)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'lexi.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs once on the embedded default and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'lexi.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    """A private copy of the demo catalog that a test may edit."""
    target = tmp_path / "catalog"
    shutil.copytree(DEMO_CATALOG, target)
    return target


@pytest.fixture
def smtp() -> Iterator[LoopbackSMTP]:
    """A real SMTP server on loopback; ``smtp.received`` holds what it accepted."""
    with LoopbackSMTP() as server:
        yield server


@pytest.fixture(scope="module")
def dagster_instance() -> Iterator[dg.DagsterInstance]:
    # One instance per module: many SQLite-backed instances in one run can hit table locks.
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture
def resources(database_url: str, catalog_dir: Path) -> dict[str, Any]:
    return {
        "database": DatabaseResource(url=database_url),
        "catalog_sources": CatalogSourceResource(
            ingestion_config_path=str(catalog_dir / "ingestion.yaml")
        ),
    }


def snapshot(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, ordered by primary key: equal snapshots, equal state."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return {
                table.name: [
                    tuple(row)
                    for row in conn.execute(select(table).order_by(*table.primary_key.columns))
                ]
                for table in Base.metadata.sorted_tables
            }
    finally:
        engine.dispose()
