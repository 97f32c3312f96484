"""Turning permanent input errors into non-retryable Dagster failures."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

# Transient faults (database connection, HTTP 5xx, timeouts) get a few spaced retries; the
# jitter keeps the retries of many partitions from hitting a recovering server together.
TRANSIENT_RETRY = dg.RetryPolicy(
    max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)


@contextmanager
def permanent_failures(*error_types: type[Exception]) -> Iterator[None]:
    """Re-raise ``error_types`` as ``Failure(allow_retries=False)``: retrying cannot fix input."""
    try:
        yield
    except error_types as exc:
        metadata = {
            key: dg.MetadataValue.text(str(value))
            for key in ("source", "item", "field")
            if (value := getattr(exc, key, None)) is not None
        }
        raise dg.Failure(
            description=str(exc),
            metadata={"error": dg.MetadataValue.text(type(exc).__name__), **metadata},
            allow_retries=False,
        ) from exc
