"""What a submission sends: job, run config and tags (queue lane, priority, who submitted).

Pure module (no Dagster import): the CLI builds requests here and ``client.py`` sends them.
Job, op and partition names are the code location's; a test checks them against it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lexi_pipelines.common.queues import queue

TRAINING_JOB = "classification_training_job"
TRAINING_OP = "classification__field_model"  # the op of asset classification/field_model
FIELDS_PARTITIONS = "fields"
INFERENCE_JOB = "classification_inference_job"
INFERENCE_OP = "classify_texts"

PRIORITY_TAG = "dagster/priority"  # the QueuedRunCoordinator dequeues higher values first
PARTITION_TAG = "dagster/partition"
SUBMITTED_BY_TAG = "lexi/submitted-by"
PRIORITIES = {"low": -10, "normal": 0, "high": 5, "urgent": 10}
# Someone waiting on an answer should not wait behind a retraining.
DEFAULT_PRIORITY = {TRAINING_JOB: "normal", INFERENCE_JOB: "high"}
PLUGIN_KINDS = ("tokenizer", "features", "classifier")


class SubmissionError(ValueError):
    """A bad option value; the message names the option."""


@dataclass(frozen=True)
class Submission:
    job_name: str
    run_config: dict[str, Any]
    tags: dict[str, str]
    partition: str | None = None  # a ``fields`` key to add before launching
    summary: dict[str, Any] = field(default_factory=dict)


def priority_tags(priority: str) -> dict[str, str]:
    if priority not in PRIORITIES:
        raise SubmissionError(f"--priority {priority!r}: choose one of {', '.join(PRIORITIES)}")
    return {PRIORITY_TAG: str(PRIORITIES[priority])}


def _base_tags(lane: str, priority: str, submitted_by: str) -> dict[str, str]:
    return {**queue(lane), **priority_tags(priority), SUBMITTED_BY_TAG: submitted_by}


def parse_plugins(values: list[str]) -> dict[str, str]:
    """``tokenizer=icu,features=tfidf`` (comma-separated, repeatable) -> {kind: name}."""
    chosen: dict[str, str] = {}
    for value in values:
        for pair in filter(None, (p.strip() for p in value.split(","))):
            kind, sep, name = (s.strip() for s in pair.partition("="))
            if not sep or not name:
                raise SubmissionError(f"--plugins {pair!r}: use kind=name, e.g. classifier=logreg")
            if kind not in PLUGIN_KINDS:
                raise SubmissionError(
                    f"--plugins {pair!r}: unknown kind {kind!r}; kinds: {', '.join(PLUGIN_KINDS)}"
                )
            chosen[kind] = name
    return chosen


def parse_params(values: list[str]) -> dict[str, dict[str, Any]]:
    """``classifier.C=0.5`` (repeatable) -> {"classifier": {"C": 0.5}}; values read as JSON
    when they parse (numbers, booleans, lists), as plain strings otherwise."""
    params: dict[str, dict[str, Any]] = {}
    for pair in values:
        target, sep, raw = pair.partition("=")
        kind, dot, name = target.strip().partition(".")
        if not sep or not dot or not name:
            raise SubmissionError(f"--param {pair!r}: use kind.name=value, e.g. classifier.C=0.5")
        if kind not in PLUGIN_KINDS:
            raise SubmissionError(
                f"--param {pair!r}: unknown kind {kind!r}; kinds: {', '.join(PLUGIN_KINDS)}"
            )
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        params.setdefault(kind, {})[name] = value
    return params


def training_submission(
    project: str,
    field_name: str,
    *,
    plugins: dict[str, str] | None = None,
    params: dict[str, dict[str, Any]] | None = None,
    priority: str | None = None,
    submitted_by: str = "cli",
) -> Submission:
    config: dict[str, Any] = dict(plugins or {})
    for kind, values in (params or {}).items():
        config[f"{kind}_params"] = values
    key = f"{project}/{field_name}"
    return Submission(
        job_name=TRAINING_JOB,
        run_config={"ops": {TRAINING_OP: {"config": config}}} if config else {},
        tags={
            **_base_tags("training", priority or DEFAULT_PRIORITY[TRAINING_JOB], submitted_by),
            PARTITION_TAG: key,
        },
        partition=key,
        summary={"partition": key, **config},
    )


def inference_submission(
    project: str,
    field_name: str,
    *,
    texts: list[str] | None = None,
    file: Path | None = None,
    output: str | None = None,
    priority: str | None = None,
    submitted_by: str = "cli",
) -> Submission:
    if not texts and file is None:
        raise SubmissionError("give --text (repeatable) or --file texts.jsonl")
    config: dict[str, Any] = {"project": project, "field": field_name, "texts": list(texts or [])}
    if file is not None:
        # The run worker opens this path: absolute, so it does not depend on its cwd.
        config["file"] = str(file.expanduser().resolve())
    if output:
        config["output"] = output
    return Submission(
        job_name=INFERENCE_JOB,
        run_config={"ops": {INFERENCE_OP: {"config": config}}},
        tags={
            **_base_tags("prediction", priority or DEFAULT_PRIORITY[INFERENCE_JOB], submitted_by),
            "lexi/field": f"{project}/{field_name}",
        },
        summary={"project": project, "field": field_name, "texts": len(texts or [])}
        | ({"file": config["file"]} if file is not None else {}),
    )
