"""Run queues: the ``lexi/queue`` run tag that dagster.yaml's tag concurrency limits key on."""

QUEUE_TAG = "lexi/queue"
# On jobs whose assets email their own failures: the generic run-failure sensor only records.
SELF_REPORTING_TAG = "lexi/reports-own-failures"


def queue(name: str) -> dict[str, str]:
    """Run tags putting a job in one lane: ingestion, training, prediction or indexing."""
    return {QUEUE_TAG: name}


# Step-level routing under the Celery executor (dagster_celery.tags.DAGSTER_CELERY_QUEUE_TAG,
# spelled out so that no definitions load imports Celery).
CELERY_QUEUE_TAG = "dagster-celery/queue"
# Extra Celery queue for heavy steps; the Compose workers listen on it beside the default one.
TRAINING_QUEUE = "training"


def celery_queue_tags(queue: str) -> dict[str, str]:
    """Op tags routing a step to one Celery queue (only workers started with ``-q queue``
    take it); ignored by the multiprocess executor."""
    return {CELERY_QUEUE_TAG: queue}
