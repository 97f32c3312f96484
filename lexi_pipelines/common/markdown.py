"""Small markdown tables for materialization metadata."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def markdown_table(rows: Sequence[Mapping[str, Any]], *, limit: int = 20) -> str:
    if not rows:
        return "_nothing to show_"
    columns = list(rows[0].keys())

    def cell(value: Any) -> str:
        return str("" if value is None else value).replace("|", "\\|").replace("\n", " ")

    lines = [
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
        *("| " + " | ".join(cell(row.get(c)) for c in columns) + " |" for row in rows[:limit]),
    ]
    if len(rows) > limit:
        lines.append(f"\n_… {len(rows) - limit} more_")
    return "\n".join(lines)
