"""Evaluation domain core: pure (Dagster-free) logic for model-evaluation use cases.

A use case's ``config.json``/``config.yaml`` declares the extracted fields (type, comparison
strategy, preprocessing, validation rules), dataset-level quality checks and decision
thresholds (:mod:`.config`); each model's ``dataset.csv``/``.xlsx`` holds golden and predicted
values per sample (:mod:`.dataset`). :mod:`.quality` runs the vectorized quality check that gates
evaluation, :mod:`.matching` and :mod:`.metrics` score predictions against the golden values and
decide ``autonomous`` / ``human_in_loop`` / ``not_ready``, and :mod:`.states` holds the per-model
state machine. The Dagster layer (assets, checks, sensors, state persistence, notifications)
builds on these modules.
"""
