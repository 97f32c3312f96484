"""Error classes of the classification domain."""

from __future__ import annotations


class ClassificationInputError(Exception):
    """Bad labels or training data: no retry can fix it. Names the file, line and column."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        item: str | None = None,
        field: str | None = None,
    ):
        super().__init__(message)
        self.source = source
        self.item = item
        self.field = field

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (type(self), str(self), self.source, self.item, self.field))


def _rebuild(
    cls: type[ClassificationInputError],
    message: str,
    source: str | None,
    item: str | None,
    field: str | None,
) -> ClassificationInputError:
    return cls(message, source=source, item=item, field=field)


class ArtifactIntegrityError(Exception):
    """A model file does not match the checksum in its manifest: it is not loaded."""
