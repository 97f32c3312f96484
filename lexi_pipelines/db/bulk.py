"""Set-based writes: bulk upsert and delete-by-key without per-row ORM round trips.

On PostgreSQL with psycopg 3 rows are streamed with COPY into a temporary table and merged with
one ``INSERT ... ON CONFLICT``; elsewhere the dialect's upsert runs as a batched executemany.

Values of JSON columns may be given as Python lists/dicts or as already serialized JSON text
(a ``str``): parsers serialize once and COPY sends the text as is.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
from sqlalchemy import JSON, Connection, Table, any_, bindparam, delete, select
from sqlalchemy import insert as generic_insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import String

_SQLITE_BATCH = 500  # stays under SQLite's bound-parameter limit for wide rows


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def uses_copy(conn: Connection) -> bool:
    """Whether COPY can be used on this connection (PostgreSQL through psycopg 3)."""
    return conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg"


def bulk_upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    update: bool = True,
    preserve: Sequence[str] = ("created_at",),
) -> int:
    """Insert ``rows`` or, on a primary-key conflict, overwrite (``update``) or keep the old row.

    Columns in ``preserve`` keep their stored value when a row is overwritten.
    """
    if not rows:
        return 0
    columns = list(rows[0].keys())
    keys = [c.name for c in table.primary_key.columns]
    changed = [c for c in columns if c not in keys and c not in preserve]
    if uses_copy(conn):
        _copy_upsert(conn, table, columns, keys, changed if update else [], rows)
        return len(rows)
    stmt: postgresql.Insert | sqlite.Insert
    if conn.dialect.name == "postgresql":
        stmt = postgresql.insert(table)
    elif conn.dialect.name == "sqlite":
        stmt = sqlite.insert(table)
    else:
        raise ValueError(f"bulk_upsert supports postgresql and sqlite, not {conn.dialect.name}")
    if update and changed:
        stmt = stmt.on_conflict_do_update(
            index_elements=keys, set_={c: stmt.excluded[c] for c in changed}
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=keys)
    rows = _decode_json_text(table, rows)
    for start in range(0, len(rows), _SQLITE_BATCH):
        conn.execute(stmt, list(rows[start : start + _SQLITE_BATCH]))
    return len(rows)


def bulk_insert(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
    if not rows:
        return 0
    if uses_copy(conn):
        _copy_rows(conn, _quote(conn, table.name), list(rows[0].keys()), rows, table)
        return len(rows)
    rows = _decode_json_text(table, rows)
    for start in range(0, len(rows), _SQLITE_BATCH):
        conn.execute(generic_insert(table), list(rows[start : start + _SQLITE_BATCH]))
    return len(rows)


def delete_by_keys(conn: Connection, table: Table, column: str, values: Iterable[Any]) -> int:
    """Delete rows whose ``column`` is in ``values`` (batched; one array bind on PostgreSQL)."""
    keys = list(values)
    if not keys:
        return 0
    col = table.c[column]
    if conn.dialect.name == "postgresql":
        result = conn.execute(delete(table).where(col == _any(keys)))
        return result.rowcount or 0
    deleted = 0
    for start in range(0, len(keys), _SQLITE_BATCH):
        result = conn.execute(delete(table).where(col.in_(keys[start : start + _SQLITE_BATCH])))
        deleted += result.rowcount or 0
    return deleted


def existing_keys(conn: Connection, table: Table, column: str, values: Iterable[Any]) -> set[Any]:
    """The subset of ``values`` present in ``column``."""
    keys = list(values)
    if not keys:
        return set()
    col = table.c[column]
    if conn.dialect.name == "postgresql":
        return set(conn.scalars(select(col).where(col == _any(keys))))
    found: set[Any] = set()
    for start in range(0, len(keys), _SQLITE_BATCH):
        found.update(conn.scalars(select(col).where(col.in_(keys[start : start + _SQLITE_BATCH]))))
    return found


def update_by_keys(
    conn: Connection, table: Table, column: str, values: Iterable[Any], changes: Mapping[str, Any]
) -> int:
    keys = list(values)
    if not keys:
        return 0
    col = table.c[column]
    if conn.dialect.name == "postgresql":
        return conn.execute(table.update().where(col == _any(keys)).values(**changes)).rowcount
    updated = 0
    for start in range(0, len(keys), _SQLITE_BATCH):
        stmt = table.update().where(col.in_(keys[start : start + _SQLITE_BATCH])).values(**changes)
        updated += conn.execute(stmt).rowcount or 0
    return updated


def _any(keys: list[Any]) -> Any:
    return any_(bindparam("keys", keys, type_=postgresql.ARRAY(String)))


def _json_columns(table: Table, columns: Iterable[str]) -> set[str]:
    return {c for c in columns if isinstance(table.c[c].type, JSON)}


def _decode_json_text(
    table: Table, rows: Sequence[Mapping[str, Any]]
) -> Sequence[Mapping[str, Any]]:
    """The SQLAlchemy JSON type serializes itself: hand it objects, not text."""
    json_columns = _json_columns(table, rows[0].keys())
    if not json_columns:
        return rows
    return [
        {
            k: orjson.loads(v) if k in json_columns and isinstance(v, str) else v
            for k, v in row.items()
        }
        for row in rows
    ]


def _copy_value(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return orjson.dumps(value).decode()
    return value


def _copy_rows(
    conn: Connection,
    target: str,
    columns: list[str],
    rows: Sequence[Mapping[str, Any]],
    table: Table,
) -> None:
    raw = conn.connection.driver_connection
    assert raw is not None
    column_list = ", ".join(_quote(conn, c) for c in columns)
    json_columns = _json_columns(table, columns)
    with raw.cursor() as cursor, cursor.copy(f"COPY {target} ({column_list}) FROM STDIN") as copy:
        if json_columns:
            for row in rows:
                copy.write_row(
                    [_copy_value(row[c]) if c in json_columns else row[c] for c in columns]
                )
        else:
            for row in rows:
                copy.write_row([row[c] for c in columns])


def _copy_upsert(
    conn: Connection,
    table: Table,
    columns: list[str],
    keys: list[str],
    changed: list[str],
    rows: Sequence[Mapping[str, Any]],
) -> None:
    with _staging(conn, table, columns, keys, changed) as staging:
        _copy_rows(conn, staging, columns, rows, table)


def copy_text_insert(conn: Connection, table: Table, columns: Sequence[str], text: str) -> None:
    """Stream rows already encoded in COPY text format (see ``copy_text``) into ``table``."""
    if text:
        _copy_text(conn, _quote(conn, table.name), columns, text)


def copy_text_upsert(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    text: str,
    *,
    preserve: Sequence[str] = ("created_at",),
) -> None:
    """Like ``bulk_upsert`` for rows already encoded in COPY text format."""
    if not text:
        return
    keys = [c.name for c in table.primary_key.columns]
    changed = [c for c in columns if c not in keys and c not in preserve]
    with _staging(conn, table, list(columns), keys, changed) as staging:
        _copy_text(conn, staging, columns, text)


def _copy_text(conn: Connection, target: str, columns: Sequence[str], text: str) -> None:
    raw = conn.connection.driver_connection
    assert raw is not None
    column_list = ", ".join(_quote(conn, c) for c in columns)
    with raw.cursor() as cursor, cursor.copy(f"COPY {target} ({column_list}) FROM STDIN") as copy:
        copy.write(text)


@contextmanager
def _staging(
    conn: Connection, table: Table, columns: list[str], keys: list[str], changed: list[str]
) -> Iterator[str]:
    """A temporary table to COPY into, merged into ``table`` with one upsert on exit."""
    staging = f"_lexi_stage_{uuid.uuid4().hex[:12]}"
    target = _quote(conn, table.name)
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor:
        # Only the copied columns: a LIKE copy would carry NOT NULL constraints of others.
        column_defs = ", ".join(
            f"{_quote(conn, c)} {table.c[c].type.compile(conn.dialect)}" for c in columns
        )
        cursor.execute(f"CREATE TEMP TABLE {staging} ({column_defs}) ON COMMIT DROP")
    yield staging
    column_list = ", ".join(_quote(conn, c) for c in columns)
    conflict = ", ".join(_quote(conn, k) for k in keys)
    if changed:
        assignments = ", ".join(f"{_quote(conn, c)} = EXCLUDED.{_quote(conn, c)}" for c in changed)
        action = f"DO UPDATE SET {assignments}"
    else:
        action = "DO NOTHING"
    with raw.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {target} ({column_list}) SELECT {column_list} FROM {staging} "
            f"ON CONFLICT ({conflict}) {action}"
        )
        cursor.execute(f"DROP TABLE {staging}")
