"""Memory-management helpers for bulk work."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building millions of acyclic objects.

    Parsing a large feed allocates dicts and lists fast enough to trigger full collections
    over an ever larger heap; measured on 100k products this made parsing 1.6x slower.
    Reference counting still frees everything; only cycle detection waits.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
