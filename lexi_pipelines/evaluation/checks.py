"""The quality gate: field validation and dataset-level checks, blocking on `error` issues.

Both read the issues the dataset asset stored for the model's latest upload, so a failed check
shows exactly which field, row, rule and value to fix. Only `error` issues block evaluation;
`warning`/`info` issues fail the check with WARN severity, which reports without blocking.
"""

import dagster as dg

from lexi_pipelines.common.markdown import markdown_table
from lexi_pipelines.common.resources import DatabaseResource
from lexi_pipelines.evaluation.assets import DATASET, ISSUE_ROWS_SHOWN
from lexi_pipelines.evaluation.config import FIELD_CHECK
from lexi_pipelines.evaluation.partitions import model_partitions
from lexi_pipelines.evaluation.store import stored_issues
from lexi_pipelines.evaluation.uploads import split_model_key

_COLUMNS = ("severity", "check", "field", "row", "rule", "value", "message")


def _gate(
    context: dg.AssetCheckExecutionContext, database: DatabaseResource, field_level: bool
) -> dg.AssetCheckResult:
    use_case, model = split_model_key(context.partition_key)
    issues = [
        issue
        for issue in stored_issues(database.engine, use_case, model)
        if (issue["check"] == FIELD_CHECK) == field_level
    ]
    errors = sum(1 for i in issues if i["severity"] == "error")
    by_rule: dict[str, int] = {}
    for issue in issues:
        key = f"{issue['severity']}: {issue['field'] or '-'} / {issue['rule']}"
        by_rule[key] = by_rule.get(key, 0) + 1
    metadata: dict[str, dg.RawMetadataValue] = {
        "errors": errors,
        "warnings_and_infos": len(issues) - errors,
        "by_rule": dg.MetadataValue.json(by_rule),
    }
    if issues:
        shown = [{k: issue[k] for k in _COLUMNS} for issue in issues]
        metadata["issues"] = dg.MetadataValue.md(markdown_table(shown, limit=ISSUE_ROWS_SHOWN))
    return dg.AssetCheckResult(
        passed=not issues,
        severity=dg.AssetCheckSeverity.ERROR if errors else dg.AssetCheckSeverity.WARN,
        metadata=metadata,
        description=f"{errors} blocking issue(s)" if errors else None,
    )


@dg.asset_check(
    asset=DATASET,
    partitions_def=model_partitions,
    blocking=True,
    description="Every configured field's validation rules (null, length, pattern, allowed "
    "values, numeric range and decimals, date format and range) on the golden values.",
)
def field_validation(
    context: dg.AssetCheckExecutionContext, database: DatabaseResource
) -> dg.AssetCheckResult:
    return _gate(context, database, field_level=True)


@dg.asset_check(
    asset=DATASET,
    partitions_def=model_partitions,
    blocking=True,
    description="Readable config and dataset with every required column; sample size, "
    "distinct documents, samples per scenario value, class imbalance, missing percentage.",
)
def dataset_checks(
    context: dg.AssetCheckExecutionContext, database: DatabaseResource
) -> dg.AssetCheckResult:
    return _gate(context, database, field_level=False)
