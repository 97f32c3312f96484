"""Where steps execute: Dagster's default executor, or Celery workers for scale-out.

``LEXI_EXECUTOR=multiprocess`` (the default) keeps Dagster's own executor: each step in a
subprocess of the run worker, on one machine; ``in_process`` runs every step in the run worker
itself. ``LEXI_EXECUTOR=celery`` sends every step to
``dagster-celery`` workers through a broker (Redis), so steps of one run, and of many runs,
spread over machines. Workers rebuild the job by importing ``lexi_pipelines.definitions`` and
write events to the same Dagster instance, so they need the run worker's environment, the
PostgreSQL-backed instance and shared storage for outputs (``io_manager`` below).
"""

import os
from typing import Any

import dagster as dg

from lexi_pipelines.settings import LexiSettings

DEFINITIONS_MODULE = "lexi_pipelines.definitions"


def _env_or(name: str, default: str) -> Any:
    # An env source, not the value, when the variable is set: a broker URL may hold a password,
    # which then stays out of the job's definition and is read when a run starts.
    return {"env": name} if os.environ.get(name) else default


def build_executor(settings: LexiSettings) -> dg.ExecutorDefinition | None:
    """The code location's executor; ``None`` keeps Dagster's default."""
    if settings.executor == "in_process":
        # Every step in the run worker's own process: one import of the code location per run
        # instead of one per step (small machines, many small partitions, debugging).
        return dg.in_process_executor
    if settings.executor != "celery":
        return None
    from dagster_celery import celery_executor

    return celery_executor.configured(
        {
            "broker": _env_or("LEXI_CELERY_BROKER", settings.celery_broker),
            "backend": _env_or("LEXI_CELERY_BACKEND", settings.celery_backend),
            "include": [DEFINITIONS_MODULE],
            "config_source": {"task_default_queue": settings.celery_queue},
        },
        name="lexi_celery_executor",
    )


def build_io_resources(settings: LexiSettings) -> dict[str, Any]:
    """An ``io_manager`` on a shared path when steps may run on other machines.

    Under Celery the step producing an output and the one reading it may run on different
    workers, so outputs go to ``LEXI_IO_PATH`` (default ``$LEXI_HOME/io``), which every worker
    must mount. Otherwise Dagster's default (files under ``$DAGSTER_HOME/storage``) stays,
    unless ``LEXI_IO_PATH`` is set.
    """
    if settings.executor != "celery" and settings.io_path is None:
        return {}
    path = settings.io_path or settings.home / "io"
    base_dir: Any = dg.EnvVar("LEXI_IO_PATH") if os.environ.get("LEXI_IO_PATH") else str(path)
    return {"io_manager": dg.FilesystemIOManager(base_dir=base_dir)}
