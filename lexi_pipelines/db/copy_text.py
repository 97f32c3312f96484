"""PostgreSQL ``COPY ... FROM STDIN`` text format, encoded in plain Python.

Encoding rows to text where they are produced (in parse workers) lets a shard travel between
processes as one string instead of millions of small objects, and lets the database session
stream it without per-row work.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

NULL = "\\N"
# NUL cannot be stored in a PostgreSQL text value at all; it is dropped.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\x00": ""})
_NEEDS_ESCAPE = re.compile(r"[\\\t\n\r\x00]").search


def copy_field(value: Any) -> str:
    if value is None:
        return NULL
    if type(value) is str:
        return value.translate(_ESCAPES) if _NEEDS_ESCAPE(value) else value
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return copy_field(str(value))


_LINE_BREAKS = re.compile(r"[\n\r\x00]").search


def copy_line(values: Sequence[Any]) -> str:
    """One row, without the trailing newline (callers may still append columns).

    Fast path: join first, then escape field by field only when the joined line shows a
    character that needs it (most rows have none).
    """
    parts = [v if type(v) is str else _plain(v) for v in values]
    line = "\t".join(parts)
    # The only backslashes and tabs allowed are those of NULL markers and separators.
    if (
        line.count("\\") != values.count(None)
        or line.count("\t") != len(parts) - 1
        or _LINE_BREAKS(line)
    ):
        return "\t".join(map(copy_field, values))
    return line


def _plain(value: Any) -> str:
    """A non-string value in COPY text; none of these forms contains a special character."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return _isoformat(value)
    if isinstance(value, (int, float, Decimal, date)):
        return str(value) if not isinstance(value, date) else value.isoformat()
    return copy_field(value)


@lru_cache(maxsize=1024)
def _isoformat(value: datetime) -> str:
    # Rows repeat a few timestamps (the ingest time, common validity dates).
    return value.isoformat()
