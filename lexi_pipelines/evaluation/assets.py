"""Evaluation assets: a model's checked dataset, its results, and the use case's leaderboard.

The pandas-backed core (:mod:`.pipeline`, :mod:`.notices`) is imported inside the assets: every
run worker, step process and sensor tick loads the code location, and pandas would add about
0.4 s to each of them.
"""

import dagster as dg
from pydantic import Field

from lexi_pipelines.common.failures import TRANSIENT_RETRY, permanent_failures
from lexi_pipelines.common.markdown import markdown_table
from lexi_pipelines.common.notifier import NotifierResource
from lexi_pipelines.common.resources import DatabaseResource
from lexi_pipelines.evaluation.errors import EvaluationInputError, EvaluationStateError
from lexi_pipelines.evaluation.partitions import model_partitions, use_case_partitions
from lexi_pipelines.evaluation.resources import EvaluationStorageResource
from lexi_pipelines.evaluation.states import ModelEvaluationState
from lexi_pipelines.evaluation.store import Trigger, model_row
from lexi_pipelines.evaluation.uploads import split_model_key

DATASET = dg.AssetKey(["evaluation", "dataset"])
RESULTS = dg.AssetKey(["evaluation", "results"])
LEADERBOARD = dg.AssetKey(["evaluation", "leaderboard"])
ISSUE_ROWS_SHOWN = 50
METRIC_NAMES = ("accuracy", "precision", "recall", "f1")
# Set by evaluation_upload_sensor on the runs it requests: history rows then say "upload".
UPLOAD_TRIGGER_TAG = "lexi/trigger"


class RecheckConfig(dg.Config):
    force: bool = Field(
        default=False, description="Check (or evaluate) again even if no input changed."
    )


def run_trigger(context: dg.AssetExecutionContext) -> Trigger:
    """History rows name what started the run: a sensor, a backfill, or a person."""
    tags = context.run.tags
    if trigger := tags.get(UPLOAD_TRIGGER_TAG):
        origin = trigger
    elif sensor := tags.get("dagster/sensor_name"):
        origin = f"sensor {sensor}"
    elif tags.get("dagster/backfill"):
        origin = f"backfill {tags['dagster/backfill']}"
    else:
        origin = f"run by {tags.get('lexi/submitted-by', 'user')}"
    return Trigger(origin, context.run.run_id)


@dg.asset(
    key=DATASET,
    partitions_def=model_partitions,
    group_name="evaluation",
    kinds={"pandas"},
    retry_policy=TRANSIENT_RETRY,
    description="The model's uploaded dataset (evaluations/{use_case}/models/{model}/dataset.csv"
    " or .xlsx) after its quality check: field validation rules and dataset-level checks, every "
    "issue stored in `evaluation_issues`. Moves the model through QUALITY_CHECK_* to "
    "EVALUATION_QUEUED or AWAITING_DATA_FIX (with an email and the issue report).",
)
def dataset(
    context: dg.AssetExecutionContext,
    config: RecheckConfig,
    database: DatabaseResource,
    evaluation_storage: EvaluationStorageResource,
    notifier: NotifierResource,
) -> dg.MaterializeResult:
    from lexi_pipelines.evaluation import notices
    from lexi_pipelines.evaluation.pipeline import check_quality, issue_frame

    use_case, model = split_model_key(context.partition_key)
    with permanent_failures(EvaluationInputError, EvaluationStateError):
        outcome = check_quality(
            database.engine, evaluation_storage.paths, use_case, model, run_trigger(context),
            force=config.force,
        )  # fmt: skip
    if not outcome.passed and not outcome.unchanged:
        sent = notifier.send(notices.quality_check_failed(outcome))
        context.log.warning("%s/%s: quality check failed; notified %s", use_case, model, sent)
    issues = issue_frame(outcome.issues)
    metadata: dict[str, dg.RawMetadataValue] = {
        "dataset_file": dg.MetadataValue.path(str(outcome.dataset_file)),
        "dataset_sha256": outcome.dataset_hash,
        "passed": outcome.passed,
        "unchanged": outcome.unchanged,
        "errors": outcome.counts.get("error", 0),
        "warnings": outcome.counts.get("warning", 0),
        "infos": outcome.counts.get("info", 0),
    }
    if outcome.rows is not None:
        metadata["rows"] = outcome.rows
    if outcome.input_error:
        metadata["input_error"] = dg.MetadataValue.text(outcome.input_error)
    if outcome.report_file:
        metadata["issue_report"] = dg.MetadataValue.path(str(outcome.report_file))
    if len(issues):
        metadata["issues"] = dg.MetadataValue.md(
            markdown_table(issues.to_dict("records"), limit=ISSUE_ROWS_SHOWN)
        )
    return dg.MaterializeResult(
        metadata=metadata, data_version=dg.DataVersion(outcome.dataset_hash)
    )


@dg.asset(
    key=RESULTS,
    deps=[DATASET],
    partitions_def=model_partitions,
    group_name="evaluation",
    kinds={"pandas", "excel"},
    retry_policy=TRANSIENT_RETRY,
    description="Per-field and overall (micro) accuracy, precision, recall and F1 of the dataset "
    "that passed its quality check, matched with each field's strategy; the decision against the "
    "use case's thresholds; a results workbook (summary + one sheet per field). Only runs after "
    "the blocking quality checks pass.",
)
def results(
    context: dg.AssetExecutionContext,
    database: DatabaseResource,
    evaluation_storage: EvaluationStorageResource,
    notifier: NotifierResource,
) -> dg.MaterializeResult:
    from lexi_pipelines.evaluation import notices
    from lexi_pipelines.evaluation.pipeline import evaluate_model, use_case_recipients

    use_case, model = split_model_key(context.partition_key)
    engine = database.engine
    try:
        with permanent_failures(EvaluationInputError, EvaluationStateError):
            outcome = evaluate_model(
                engine, evaluation_storage.paths, use_case, model, run_trigger(context)
            )
    except Exception as exc:
        row = model_row(engine, use_case, model)
        last_try = context.retry_number >= TRANSIENT_RETRY.max_retries
        permanent = isinstance(exc, dg.Failure) and not exc.allow_retries
        if (
            row
            and row["current_state"] == ModelEvaluationState.EVALUATION_FAILED
            and (permanent or last_try)
        ):
            recipients = use_case_recipients(evaluation_storage.paths, use_case)
            notifier.send(
                notices.evaluation_failed(use_case, model, str(row["error"] or exc), recipients)
            )
        raise
    if not outcome.unchanged:
        sent = notifier.send(notices.evaluation_completed(outcome))
        context.log.info("%s/%s: %s; notified %s", use_case, model, outcome.decision, sent)
    overall = outcome.metrics["overall"]
    per_field = [
        {"field": name, **{k: round(v, 4) if isinstance(v, float) else v for k, v in m.items()}}
        for name, m in outcome.metrics["per_field"].items()
    ]
    return dg.MaterializeResult(
        metadata={
            "decision": outcome.decision,
            "unchanged": outcome.unchanged,
            "rows": outcome.rows,
            **{k: dg.MetadataValue.float(float(overall[k])) for k in METRIC_NAMES},
            "per_field": dg.MetadataValue.md(markdown_table(per_field, limit=100)),
            "results_workbook": dg.MetadataValue.path(str(outcome.results_file)),
            "dataset_sha256": outcome.dataset_hash,
        },
        data_version=dg.DataVersion(outcome.dataset_hash),
    )  # fmt: skip


@dg.asset(
    key=LEADERBOARD,
    deps=[dg.AssetDep(RESULTS, partition_mapping=dg.AllPartitionMapping())],
    partitions_def=use_case_partitions,
    group_name="evaluation",
    kinds={"excel"},
    retry_policy=TRANSIENT_RETRY,
    description="The latest results of every model of the use case side by side, ranked by F1: "
    "a markdown table here and evaluations/{use_case}/leaderboard.xlsx. Models whose upload "
    "was removed are archived.",
)
def leaderboard(
    context: dg.AssetExecutionContext,
    database: DatabaseResource,
    evaluation_storage: EvaluationStorageResource,
) -> dg.MaterializeResult:
    from lexi_pipelines.evaluation.pipeline import build_leaderboard

    outcome = build_leaderboard(
        database.engine, evaluation_storage.paths, context.partition_key, run_trigger(context)
    )
    evaluated = [r for r in outcome.rows if r["f1"] is not None]
    metadata: dict[str, dg.RawMetadataValue] = {
        "models": len(outcome.rows),
        "evaluated": len(evaluated),
        "leaderboard": dg.MetadataValue.md(outcome.markdown),
        "archived": dg.MetadataValue.json(outcome.archived),
    }
    if evaluated:
        best = evaluated[0]
        metadata["best_model"] = best["model"]
        metadata["best_f1"] = float(best["f1"])
    if outcome.workbook:
        metadata["workbook"] = dg.MetadataValue.path(str(outcome.workbook))
    return dg.MaterializeResult(metadata=metadata)
