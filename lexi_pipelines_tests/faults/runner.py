"""One materialization in a process of its own, for the tests that kill or disturb a run.

    python -m lexi_pipelines_tests.faults.runner TARGET PARTITION [--pause fit|save]

Resources come from the environment exactly as in the code location (``LEXI_DATABASE_URL``,
``LEXI_STORAGE_PATH``, ``LEXI_INGESTION_CONFIG``, ...), the Dagster instance from
``DAGSTER_HOME``. ``--pause`` stops the run at a named point (writing the file named by
``LEXI_FAULT_MARKER`` first) so a test can kill it there and nowhere else. The last line of
output is a JSON summary: success, step restarts and failure messages.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import dagster as dg

TARGETS = ("feed", "documents", "training")


def _selection(target: str) -> tuple[list[Any], str | None]:
    """The assets (and checks) a target materializes, and its dynamic partitions name."""
    if target == "feed":
        from lexi_pipelines.catalog.assets import product_feed

        return [product_feed], None
    if target == "documents":
        from lexi_pipelines.documents.assets import (
            document_chunks,
            document_text,
            documents_registry,
        )
        from lexi_pipelines.documents.partitions import PROJECTS

        return [documents_registry, document_text, document_chunks], PROJECTS
    from lexi_pipelines.classification.assets import (
        field_model,
        field_model_evaluation,
        field_predictions,
    )
    from lexi_pipelines.classification.checks import model_beats_baseline
    from lexi_pipelines.classification.partitions import FIELDS

    return [field_model, field_model_evaluation, field_predictions, model_beats_baseline], FIELDS


def _pause_forever(*_args: Any, **_kwargs: Any) -> Any:
    Path(os.environ["LEXI_FAULT_MARKER"]).write_text(str(os.getpid()))
    while True:
        time.sleep(60)


def _install_pause(point: str) -> None:
    if point == "fit":
        # The models row is TRAINING and nothing is on disk: as anywhere inside a long fit.
        from lexi_pipelines.classification.pipeline import TextClassifier

        TextClassifier.fit = _pause_forever  # type: ignore[method-assign]
    elif point == "save":
        # model.pkl is written and synced in the staging folder; no manifest, no rename yet.
        from lexi_pipelines.classification import artifacts

        artifacts._sha256 = _pause_forever
    else:
        raise SystemExit(f"unknown pause point {point!r}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("target", choices=TARGETS)
    parser.add_argument("partition")
    parser.add_argument("--pause", choices=("fit", "save"))
    args = parser.parse_args()
    if args.pause:
        _install_pause(args.pause)

    from lexi_pipelines.resources import build_resources
    from lexi_pipelines.settings import get_settings

    assets, dynamic = _selection(args.target)
    instance = dg.DagsterInstance.get()
    if dynamic:
        instance.add_dynamic_partitions(dynamic, [args.partition])
    result = dg.materialize(
        assets,
        partition_key=args.partition,
        resources=build_resources(get_settings()),
        instance=instance,
        raise_on_error=False,
    )
    failures = [
        e.step_failure_data.error.message
        for e in result.all_events
        if e.is_step_failure and e.step_failure_data.error is not None
    ]
    summary = {
        "success": result.success,
        "restarts": sum(1 for e in result.all_events if e.event_type_value == "STEP_RESTARTED"),
        "failures": failures,
    }
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
