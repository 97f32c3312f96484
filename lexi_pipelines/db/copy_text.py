"""PostgreSQL ``COPY ... FROM STDIN`` text format, encoded in plain Python.

Encoding rows to text where they are produced (in parse workers) lets a shard travel between
processes as one string instead of millions of small objects, and lets the database session
stream it without per-row work.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
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
    encoders = _ENCODERS
    parts = [v if type(v) is str else encoders.get(type(v), copy_field)(v) for v in values]
    line = "\t".join(parts)
    # The only backslashes and tabs allowed are those of NULL markers and separators.
    if (
        line.count("\\") != values.count(None)
        or line.count("\t") != len(parts) - 1
        or _LINE_BREAKS(line)
    ):
        return "\t".join(map(copy_field, values))
    return line


@lru_cache(maxsize=1024)
def timestamp_text(value: datetime) -> str:
    # Rows repeat a few timestamps (the ingest time, common validity dates).
    return value.isoformat()


# Text forms of the common non-string types; none of them contains a special character.
_ENCODERS: dict[type, Callable[[Any], str]] = {
    type(None): lambda _: NULL,
    bool: lambda value: "t" if value else "f",
    int: int.__repr__,
    float: float.__repr__,
    Decimal: Decimal.__str__,
    datetime: timestamp_text,
    date: date.isoformat,
}
