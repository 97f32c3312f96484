"""Worker process pools for CPU-bound work inside a run (pure: no Dagster import)."""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager


def forkserver_pool(workers: int, preload: list[str]) -> ProcessPoolExecutor:
    """A pool whose workers fork from a server that has already imported ``preload``.

    forkserver, not fork: forking a run process that holds threads and sockets is unsafe.
    Start the work inside ``main_module_hidden()`` so the workers skip the parent's script.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(preload)
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)


@contextmanager
def main_module_hidden() -> Iterator[None]:
    """Keep new worker processes from re-running the parent's ``__main__``.

    Spawned and forkserver workers first import the parent's main script or module, as
    ``__mp_main__``. Pool workers need nothing from it, and under a CLI entry point or a
    benchmark script that import costs each worker about a second of CPU. Workers start on
    submit, so submit (or ``map``) every task inside this block.
    """
    main = sys.modules["__main__"]
    spec, path = getattr(main, "__spec__", None), main.__dict__.pop("__file__", None)
    main.__spec__ = None
    try:
        yield
    finally:
        main.__spec__ = spec
        if path is not None:
            main.__file__ = path
