"""What a run leaves behind, in comparable form: table rows and file hashes."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import select

from lexi_pipelines.db.engine import make_engine
from lexi_pipelines.db.models import Base

# Wall-clock stamps of when a row was written: two equal runs at different times differ only
# here. Data timestamps (an offer's price_valid_until) are compared like any other column.
VOLATILE_COLUMNS = frozenset(
    {
        "created_at",
        "updated_at",
        "deleted_at",
        "ingested_at",
        "extracted_at",
        "finished_at",
        "predicted_at",
        "evaluated_at",
        "at",
    }
)

Tables = dict[str, list[tuple[Any, ...]]]


def table_rows(database_url: str, *, without: frozenset[str] = VOLATILE_COLUMNS) -> Tables:
    """Every table's rows ordered by primary key, less the ``without`` columns."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            state: Tables = {}
            for table in Base.metadata.sorted_tables:
                columns = [c for c in table.columns if c.name not in without]
                query = select(*columns).order_by(*table.primary_key.columns)
                state[table.name] = [tuple(row) for row in conn.execute(query)]
            return state
    finally:
        engine.dispose()


def is_scratch(relative: str) -> bool:
    """An atomic write's temporary (``.name.<hex>.tmp``/``.part``) or a staging folder."""
    return any(part.startswith(".") for part in Path(relative).parts)


def file_hashes(root: Path, *, scratch: bool = False) -> dict[str, str]:
    """sha256 of every file under ``root`` by relative path; hidden scratch files only if asked."""
    hashes = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and (scratch or not is_scratch(relative)):
            hashes[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


def differences(before: Tables, after: Tables) -> dict[str, dict[str, list[tuple[Any, ...]]]]:
    """Per changed table, the rows only before (``gone``) and only after (``new``): readable
    assertion output instead of two walls of tuples."""
    changed = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name, []), after.get(name, [])
        if old != new:
            changed[name] = {
                "gone": [r for r in old if r not in new][:5],
                "new": [r for r in new if r not in old][:5],
            }
    return changed
