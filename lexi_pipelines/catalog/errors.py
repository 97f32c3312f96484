"""Error classes of catalog ingestion, split by whether a retry can help."""

from __future__ import annotations


class CatalogInputError(ValueError):
    """Invalid input: retrying cannot help. The message names file, item and field."""

    def __init__(
        self,
        source: str,
        problem: str,
        *,
        item: str | None = None,
        field: str | None = None,
    ) -> None:
        self.source = source
        self.item = item
        self.field = field
        self.problem = problem
        parts = [source]
        if item is not None:
            parts.append(item)
        if field is not None:
            parts.append(f"field '{field}'")
        super().__init__(": ".join([*parts, problem]))

    def __reduce__(self) -> tuple[object, ...]:
        # Raised in parse worker processes: travel back with every field intact.
        return _rebuild_input_error, (self.source, self.problem, self.item, self.field)


def _rebuild_input_error(
    source: str, problem: str, item: str | None, field: str | None
) -> CatalogInputError:
    return CatalogInputError(source, problem, item=item, field=field)


class TransientSourceError(RuntimeError):
    """A fault that may pass on its own (HTTP 5xx, timeouts, refused connections)."""


class IngestionConfigError(ValueError):
    """``ingestion.yaml`` is unusable; raised while loading definitions."""
