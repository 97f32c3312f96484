"""Errors of the evaluation domain: malformed inputs, and steps started from the wrong state."""

from __future__ import annotations

from pathlib import Path


class EvaluationInputError(ValueError):
    """A config or dataset that cannot be used; names the file and, when known, the location.

    ``key`` is a dotted config key path (``fields.invoice_total.strategy``); ``row`` is the row
    number as a spreadsheet shows it (header = 1, first sample = 2); ``column`` a dataset column.
    """

    def __init__(
        self,
        file: Path | str,
        message: str,
        *,
        key: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file = str(file)
        self.key = key
        self.row = row
        self.column = column
        self.detail = message
        where = [f"file {self.file}"]
        if key is not None:
            where.append(f"key {key}")
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column}")
        super().__init__(f"{', '.join(where)}: {message}")


class EvaluationStateError(RuntimeError):
    """The model is not in a state the requested step can start from."""
