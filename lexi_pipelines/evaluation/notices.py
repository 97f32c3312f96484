"""The emails of the evaluation flow (the seed's three outcome messages)."""

from __future__ import annotations

from lexi_pipelines.common.notifications import Attachment, Notification
from lexi_pipelines.evaluation.pipeline import EvaluationOutcome, QualityOutcome

_PERCENT_KEYS = ("accuracy", "precision", "recall", "f1")


def quality_check_failed(outcome: QualityOutcome) -> Notification:
    name = f"{outcome.use_case}/{outcome.model}"
    lines = [
        f"The quality check of {name} failed, so it was not evaluated.",
        f"Dataset: {outcome.dataset_file} (sha256 {outcome.dataset_hash[:12]})",
        f"Issues: {', '.join(f'{n} {sev}' for sev, n in outcome.counts.items())}",
    ]
    if outcome.input_error:
        lines.append(f"The file could not be used: {outcome.input_error}")
    errors = [i for i in outcome.issues if i.severity == "error"][:10]
    if errors:
        lines.append("First errors:")
        lines += [
            f"  - row {i.row or '-'}, {i.field or 'dataset'} [{i.rule}] "
            f"value {i.value!r}: {i.message}"
            for i in errors
        ]
    lines.append("Upload a corrected dataset to the same folder: it is checked again by itself.")
    attachments = (Attachment.from_path(outcome.report_file),) if outcome.report_file else ()
    return Notification(
        subject=f"[lexi] {name}: quality check failed",
        body="\n".join(lines),
        recipients=outcome.recipients,
        attachments=attachments,
        kind="evaluation.qc_failed",
    )


def evaluation_completed(outcome: EvaluationOutcome) -> Notification:
    name = f"{outcome.use_case}/{outcome.model}"
    overall = outcome.metrics["overall"]
    figures = ", ".join(f"{key} {overall[key]:.1%}" for key in _PERCENT_KEYS)
    body = "\n".join(
        [
            f"The evaluation of {name} is complete: {outcome.rows} samples.",
            f"Decision: {outcome.decision}",
            f"Overall (micro): {figures}",
            "Per-field figures and every sample's outcome are in the attached workbook.",
        ]
    )
    return Notification(
        subject=f"[lexi] {name}: evaluation complete ({outcome.decision})",
        body=body,
        recipients=outcome.recipients,
        attachments=(Attachment.from_path(outcome.results_file),),
        kind="evaluation.completed",
    )


def evaluation_failed(
    use_case: str, model: str, error: str, recipients: tuple[str, ...] = ()
) -> Notification:
    name = f"{use_case}/{model}"
    return Notification(
        subject=f"[lexi] {name}: evaluation failed",
        body=f"The evaluation of {name} failed:\n\n{error}\n\n"
        "It can be retried: re-run the partition, or upload the dataset again.",
        recipients=recipients,
        kind="evaluation.failed",
    )
