"""Error classes of the documents domain: input errors are permanent, database faults are not."""

from __future__ import annotations


class DocumentsInputError(Exception):
    """Bad input that no retry can fix (an invalid project name, a missing project folder)."""

    def __init__(self, message: str, *, source: str | None = None, field: str | None = None):
        super().__init__(message)
        self.source = source
        self.field = field

    def __reduce__(self) -> tuple[object, ...]:
        # Keeps ``source``/``field`` when the error crosses a process boundary.
        return (_rebuild, (type(self), str(self), self.source, self.field))


def _rebuild(
    cls: type[DocumentsInputError], message: str, source: str | None, field: str | None
) -> DocumentsInputError:
    return cls(message, source=source, field=field)


class ExtractionError(Exception):
    """One document could not be read: it is marked FAILED with this reason, nothing else fails."""
