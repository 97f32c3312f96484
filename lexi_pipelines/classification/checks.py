"""The evaluation gate: a model that does not beat the trivial baseline never predicts."""

import dagster as dg
from pydantic import Field

from lexi_pipelines.classification.assets import FIELD_MODEL_EVALUATION
from lexi_pipelines.classification.partitions import field_partitions, split_field_key
from lexi_pipelines.classification.store import finish_model, latest_model
from lexi_pipelines.common.resources import DatabaseResource


class GateConfig(dg.Config):
    min_macro_f1: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Required macro-F1; default: strictly above the majority-class baseline.",
    )


@dg.asset_check(
    asset=FIELD_MODEL_EVALUATION,
    partitions_def=field_partitions,
    blocking=True,
    description="Macro-F1 above the majority-class baseline (or a configured minimum); marks "
    "the model as passed, which is what lets field_predictions use it.",
)
def model_beats_baseline(
    context: dg.AssetCheckExecutionContext, config: GateConfig, database: DatabaseResource
) -> dg.AssetCheckResult:
    project, field = split_field_key(context.partition_key)
    row = latest_model(database.engine, project, field)
    metrics = (row or {}).get("metrics") or {}
    if row is None or not metrics:
        return dg.AssetCheckResult(passed=False, metadata={"reason": "no evaluated model"})
    macro_f1 = float(metrics["macro_f1"])
    baseline = float(metrics["majority_macro_f1"])
    passed = (
        macro_f1 >= config.min_macro_f1 if config.min_macro_f1 is not None else macro_f1 > baseline
    )
    finish_model(database.engine, project, field, int(row["version"]), passed_evaluation=passed)
    return dg.AssetCheckResult(
        passed=passed,
        metadata={
            "model_version": int(row["version"]),
            "macro_f1": macro_f1,
            "majority_macro_f1": baseline,
            "min_macro_f1": config.min_macro_f1 if config.min_macro_f1 is not None else baseline,
        },
    )
