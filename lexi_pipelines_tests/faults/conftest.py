"""Fixtures of the fault tests: a feed large enough to be caught mid-ingest, its reference state."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from lexi_pipelines.catalog.config import IngestorConfig, load_ingestion_config
from lexi_pipelines.catalog.feed import ingest_feed
from lexi_pipelines.catalog.registry import ingest_registry
from lexi_pipelines.catalog.sources import SourceReader
from lexi_pipelines.db.engine import ensure_schema, make_engine
from lexi_pipelines_tests import pg
from lexi_pipelines_tests.conftest import REPO_ROOT
from lexi_pipelines_tests.faults.state import Tables, table_rows

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
from feedgen import generate_catalog

# About 2-3 s of ingest on PostgreSQL: long enough to stop it mid-transaction.
LARGE_FEED_PRODUCTS = 20_000


@pytest.fixture(scope="session")
def large_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ingestion.yaml of one ingestor ("bench") with a 20k-product sharded feed."""
    catalog = generate_catalog(tmp_path_factory.mktemp("large-catalog"), LARGE_FEED_PRODUCTS)
    return catalog.ingestion_yaml


def bench_ingestor(ingestion_yaml: Path) -> IngestorConfig:
    return load_ingestion_config(ingestion_yaml).ingestors[0]


def ingest_catalog(database_url: str, ingestor: IngestorConfig, *, feed: bool = True) -> None:
    engine = make_engine(database_url)
    try:
        ensure_schema(engine)
        with SourceReader() as reader:
            ingest_registry(engine, ingestor, reader)
            if feed:
                ingest_feed(engine, ingestor, reader)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def large_feed_reference(postgres_server: str, large_catalog: Path) -> Tables:
    """The tables after an undisturbed ingest of the large feed (less wall-clock stamps)."""
    url = pg.create_database("lexi_reference")
    try:
        ingest_catalog(url, bench_ingestor(large_catalog))
        return table_rows(url)
    finally:
        pg.drop_database(url)


def writing_transactions(database_url: str) -> int:
    """Sessions of the database inside a transaction that has written something."""
    return _count_backends(database_url, "AND backend_xid IS NOT NULL")


def sessions(database_url: str) -> int:
    return _count_backends(database_url, "")


def _count_backends(database_url: str, condition: str) -> int:
    engine = sa.create_engine(
        make_url(pg.admin_url()).set(drivername=pg.DRIVERNAME), poolclass=sa.NullPool
    )
    try:
        with engine.connect() as conn:
            return int(
                conn.scalar(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = :name "
                        f"AND pid <> pg_backend_pid() {condition}"
                    ),
                    {"name": make_url(database_url).database},
                )
                or 0
            )
    finally:
        engine.dispose()
