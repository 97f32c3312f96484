"""Operations: job submission and status, run queues and priorities, run-failure handling, and
the executor choice that scales steps out to Celery workers."""
