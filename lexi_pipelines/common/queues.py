"""Run queues: the ``lexi/queue`` run tag that dagster.yaml's tag concurrency limits key on."""

QUEUE_TAG = "lexi/queue"


def queue(name: str) -> dict[str, str]:
    """Run tags putting a job in one lane: ingestion, training, prediction or indexing."""
    return {QUEUE_TAG: name}
