"""PostgreSQL helpers for tests that need a real server.

The admin URL comes from ``LEXI_TEST_DATABASE_URL`` (default: the local ``postgres`` superuser,
trust auth). Each test creates its own throw-away database from it and drops it afterwards.
"""

from __future__ import annotations

import os
import re
import uuid

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DRIVERNAME = "postgresql+psycopg"

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def admin_url() -> str:
    """URL of a role allowed to CREATE/DROP DATABASE (``LEXI_TEST_DATABASE_URL``)."""
    return os.environ.get("LEXI_TEST_DATABASE_URL") or DEFAULT_ADMIN_URL


def _admin_engine() -> sa.Engine:
    url = make_url(admin_url()).set(drivername=DRIVERNAME)
    return sa.create_engine(
        url,
        isolation_level="AUTOCOMMIT",  # CREATE/DROP DATABASE cannot run in a transaction
        poolclass=sa.NullPool,
        connect_args={"connect_timeout": 3},
    )


def postgres_available() -> bool:
    """Whether the admin URL accepts connections (fails fast, never raises)."""
    engine = _admin_engine()
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception:
        return False
    finally:
        engine.dispose()
    return True


def _database_name(url: URL) -> str:
    name = url.database or ""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"refusing to handle unexpected database name {name!r}")
    return name


def create_database(prefix: str) -> str:
    """Create an empty database named ``<prefix>_<random>``; return its URL (psycopg driver).

    The returned string keeps the password, so it can be passed straight to
    :func:`sqlalchemy.create_engine` or :func:`drop_database`.
    """
    url = make_url(admin_url()).set(
        drivername=DRIVERNAME, database=f"{prefix}_{uuid.uuid4().hex[:12]}".lower()
    )
    name = _database_name(url)
    engine = _admin_engine()
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return url.render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop the database named by ``url``, disconnecting any session still using it."""
    name = _database_name(make_url(url))
    engine = _admin_engine()
    try:
        with engine.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        engine.dispose()
