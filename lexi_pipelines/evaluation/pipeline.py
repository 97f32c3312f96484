"""One model's quality check and evaluation, and a use case's leaderboard, with their states.

Pure orchestration over the core modules and :mod:`.store`: the Dagster assets call these and
turn the outcomes into metadata, checks and notifications. Long computations run outside any
transaction; each state change (with its history row) commits on its own, so a crash leaves the
model in a RUNNING state that the next attempt or the run-failure sensor resolves.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from lexi_pipelines.common.files import file_sha256
from lexi_pipelines.evaluation.config import EvaluationConfig, find_config, load_config
from lexi_pipelines.evaluation.dataset import find_dataset, load_dataset
from lexi_pipelines.evaluation.errors import EvaluationInputError, EvaluationStateError
from lexi_pipelines.evaluation.metrics import EvaluationResult, evaluate
from lexi_pipelines.evaluation.quality import Issue, QualityReport, run_quality_check
from lexi_pipelines.evaluation.states import RESTARTABLE
from lexi_pipelines.evaluation.states import ModelEvaluationState as S
from lexi_pipelines.evaluation.store import (
    Trigger,
    archive_use_case,
    ensure_model,
    leaderboard_rows,
    metrics_summary,
    model_row,
    models_of,
    move_model,
    now,
    record_config,
    replace_issues,
    replace_results,
)
from lexi_pipelines.evaluation.uploads import EvaluationPaths
from lexi_pipelines.evaluation.workbooks import (
    leaderboard_markdown,
    write_issue_report,
    write_leaderboard_workbook,
    write_results_workbook,
)

STRUCTURE_CHECK = "dataset_structure"
CONFIG_CHECK = "config"


@dataclass(frozen=True)
class UseCaseConfig:
    file: Path | None
    hash: str | None
    config: EvaluationConfig | None
    error: EvaluationInputError | None


def read_use_case_config(paths: EvaluationPaths, use_case: str) -> UseCaseConfig:
    try:
        file = find_config(paths.use_case_dir(use_case))
    except EvaluationInputError as exc:
        return UseCaseConfig(None, None, None, exc)
    digest = file_sha256(file)
    try:
        return UseCaseConfig(file, digest, load_config(file), None)
    except EvaluationInputError as exc:
        return UseCaseConfig(file, digest, None, exc)


def use_case_recipients(paths: EvaluationPaths, use_case: str) -> tuple[str, ...]:
    """The config's ``notify`` addresses; none when the config is missing or invalid."""
    cfg = read_use_case_config(paths, use_case)
    return tuple(cfg.config.notify) if cfg.config else ()


def _sync_config(engine: Engine, use_case: str, cfg: UseCaseConfig, trigger: Trigger) -> None:
    record_config(
        engine,
        use_case,
        config_file=str(cfg.file) if cfg.file else None,
        config_hash=cfg.hash,
        error=str(cfg.error) if cfg.error else None,
        trigger=trigger,
    )


@dataclass
class QualityOutcome:
    use_case: str
    model: str
    dataset_file: Path
    dataset_hash: str
    passed: bool
    unchanged: bool
    issues: list[Issue] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    rows: int | None = None
    # Set when the config or dataset could not be read at all (the message names file/row/col).
    input_error: str | None = None
    report_file: Path | None = None
    recipients: tuple[str, ...] = ()


def _structure_issue(exc: EvaluationInputError, check: str) -> Issue:
    return Issue(check, "error", exc.column, exc.row, "readable", exc.key, str(exc))


def _recover_stale_run(conn: Any, use_case: str, model: str, trigger: Trigger) -> S:
    """A RUNNING state left by a crashed attempt is closed as failed before starting over."""
    state = ensure_model(conn, use_case, model, trigger)
    stale = Trigger(trigger.by, trigger.run_id, "a previous attempt did not finish")
    if state is S.QUALITY_CHECK_RUNNING:
        return move_model(conn, use_case, model, S.QUALITY_CHECK_FAILED, stale)
    if state is S.EVALUATION_RUNNING:
        return move_model(conn, use_case, model, S.EVALUATION_FAILED, stale, error=stale.reason)
    return state


def check_quality(
    engine: Engine, paths: EvaluationPaths, use_case: str, model: str, trigger: Trigger,
    *, force: bool = False,
) -> QualityOutcome:  # fmt: skip
    """Run the quality check of the model's current upload (skipped when nothing changed)."""
    cfg = read_use_case_config(paths, use_case)
    _sync_config(engine, use_case, cfg, trigger)
    dataset_file = find_dataset(paths.model_dir(use_case, model))
    # Read once: the bytes are hashed here and parsed below.
    content = dataset_file.read_bytes()
    dataset_hash = hashlib.sha256(content).hexdigest()
    recipients = tuple(cfg.config.notify) if cfg.config else ()

    row = model_row(engine, use_case, model)
    if (
        not force
        and row is not None
        and row["dataset_hash"] == dataset_hash
        and row["config_hash"] == cfg.hash
        and row["current_state"]
        in (S.AWAITING_DATA_FIX, S.EVALUATION_QUEUED, S.EVALUATION_COMPLETED)
    ):
        counts = dict(row["issue_counts"] or {})
        return QualityOutcome(
            use_case, model, dataset_file, dataset_hash,
            passed=row["current_state"] != S.AWAITING_DATA_FIX, unchanged=True, counts=counts,
            input_error=row["error"] if row["current_state"] == S.AWAITING_DATA_FIX else None,
            recipients=recipients,
        )  # fmt: skip

    upload = Trigger(trigger.by, trigger.run_id, "dataset uploaded", str(dataset_file))
    with engine.begin() as conn:
        state = _recover_stale_run(conn, use_case, model, trigger)
        if state not in RESTARTABLE:
            raise EvaluationStateError(
                f"{use_case}/{model} is {state}; a quality check cannot start from it"
            )
        move_model(conn, use_case, model, S.QUALITY_CHECK_PENDING, upload)
        move_model(
            conn, use_case, model, S.QUALITY_CHECK_RUNNING,
            Trigger(trigger.by, trigger.run_id, "quality check started", str(dataset_file)),
            dataset_file=str(dataset_file), dataset_hash=dataset_hash, config_hash=cfg.hash,
            passed_dataset_hash=None,
        )  # fmt: skip

    input_error: str | None = None
    rows: int | None = None
    if cfg.config is None:
        assert cfg.error is not None
        issues = [_structure_issue(cfg.error, CONFIG_CHECK)]
        input_error = str(cfg.error)
    else:
        try:
            frame = load_dataset(dataset_file, cfg.config, content=content)
        except EvaluationInputError as exc:
            issues = [_structure_issue(exc, STRUCTURE_CHECK)]
            input_error = str(exc)
        else:
            rows = len(frame)
            issues = run_quality_check(frame, cfg.config).issues
    report = QualityReport(issues)
    report_file = None
    if not report.passed:
        report_file = write_issue_report(paths.issue_report(use_case, model, dataset_hash), issues)

    counts = report.counts
    done = Trigger(
        trigger.by, trigger.run_id,
        input_error or _summary(counts), str(dataset_file), issue_count=len(issues),
    )  # fmt: skip
    with engine.begin() as conn:
        replace_issues(conn, use_case, model, dataset_hash, issues)
        if report.passed:
            move_model(conn, use_case, model, S.QUALITY_CHECK_PASSED, done)
            move_model(
                conn, use_case, model, S.EVALUATION_QUEUED,
                Trigger(trigger.by, trigger.run_id, "quality check passed"),
                issue_counts=counts, passed_dataset_hash=dataset_hash, error=None,
            )  # fmt: skip
        else:
            move_model(conn, use_case, model, S.QUALITY_CHECK_FAILED, done)
            move_model(
                conn, use_case, model, S.AWAITING_DATA_FIX,
                Trigger(trigger.by, trigger.run_id, "waiting for a corrected upload"),
                issue_counts=counts, error=input_error,
            )  # fmt: skip
    return QualityOutcome(
        use_case, model, dataset_file, dataset_hash, report.passed, False, issues, counts,
        rows, input_error, report_file, recipients,
    )  # fmt: skip


def _summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {sev}" for sev, n in counts.items()) or "no issues"


@dataclass
class EvaluationOutcome:
    use_case: str
    model: str
    dataset_hash: str
    unchanged: bool
    decision: str
    metrics: dict[str, Any]
    results_file: Path
    rows: int
    recipients: tuple[str, ...] = ()
    result: EvaluationResult | None = None


def evaluate_model(
    engine: Engine, paths: EvaluationPaths, use_case: str, model: str, trigger: Trigger
) -> EvaluationOutcome:
    """Score the dataset that passed QC; marks the model EVALUATION_FAILED on any error.

    A forced re-check of the dataset (``RecheckConfig.force``) moves the model back to
    EVALUATION_QUEUED, which is what makes this evaluate again.
    """
    row = model_row(engine, use_case, model)
    if row is None:
        raise EvaluationStateError(f"{use_case}/{model}: no quality check has run yet")
    passed_hash = row["passed_dataset_hash"]
    if (
        row["current_state"] == S.EVALUATION_COMPLETED
        and passed_hash is not None
        and row["evaluated_dataset_hash"] == passed_hash
    ):
        overall = (row["metrics"] or {}).get("overall") or {}
        return EvaluationOutcome(
            use_case, model, passed_hash, True, row["decision"], row["metrics"],
            Path(row["results_file"]), int(overall.get("rows") or 0),
        )  # fmt: skip

    with engine.begin() as conn:
        state = _recover_stale_run(conn, use_case, model, trigger)
        if state is S.EVALUATION_FAILED and passed_hash is not None:
            retry = Trigger(trigger.by, trigger.run_id, "evaluation retried")
            state = move_model(conn, use_case, model, S.EVALUATION_QUEUED, retry)
        if state is not S.EVALUATION_QUEUED or passed_hash is None:
            raise EvaluationStateError(
                f"{use_case}/{model} is {state}; evaluation needs a passed quality check"
            )
        move_model(
            conn, use_case, model, S.EVALUATION_RUNNING,
            Trigger(trigger.by, trigger.run_id, "evaluation started", row["dataset_file"]),
        )  # fmt: skip

    try:
        dataset_file = Path(row["dataset_file"])
        content = dataset_file.read_bytes() if dataset_file.is_file() else None
        if content is None or hashlib.sha256(content).hexdigest() != passed_hash:
            raise EvaluationInputError(
                dataset_file,
                "the dataset changed or was removed after its quality check passed; "
                "a new upload is checked first",
            )
        cfg = read_use_case_config(paths, use_case)
        if cfg.config is None or cfg.hash != row["config_hash"]:
            raise EvaluationInputError(
                cfg.file or paths.use_case_dir(use_case),
                "the use case config changed or became invalid after the quality check",
            )
        frame = load_dataset(dataset_file, cfg.config, content=content)
        result = evaluate(frame, cfg.config)
        evaluated_at = now()
        results_file = write_results_workbook(
            paths.results_workbook(use_case, model, passed_hash),
            use_case=use_case, model=model, dataset_file=str(dataset_file),
            dataset_hash=passed_hash, frame=frame, config=cfg.config, result=result,
            generated_at=evaluated_at,
        )  # fmt: skip
        summary = metrics_summary(result)
        decided = f"decision: {result.decision}"
        with engine.begin() as conn:
            replace_results(conn, use_case, model, passed_hash, result, evaluated_at)
            move_model(
                conn, use_case, model, S.EVALUATION_COMPLETED,
                Trigger(trigger.by, trigger.run_id, decided, str(results_file)),
                decision=result.decision, metrics=summary, results_file=str(results_file),
                evaluated_at=evaluated_at, evaluated_dataset_hash=passed_hash, error=None,
            )  # fmt: skip
    except Exception as exc:
        mark_evaluation_failed(
            engine, use_case, model, Trigger(trigger.by, trigger.run_id, str(exc))
        )
        raise
    return EvaluationOutcome(
        use_case, model, passed_hash, False, result.decision, summary, results_file, len(frame),
        tuple(cfg.config.notify), result,
    )  # fmt: skip


def mark_evaluation_failed(engine: Engine, use_case: str, model: str, trigger: Trigger) -> bool:
    """Close a running step as failed (QC or evaluation); False when nothing was running."""
    with engine.begin() as conn:
        state = ensure_model(conn, use_case, model, trigger)
        if state is S.EVALUATION_RUNNING:
            move_model(conn, use_case, model, S.EVALUATION_FAILED, trigger, error=trigger.reason)
            return True
        if state is S.QUALITY_CHECK_RUNNING:
            move_model(conn, use_case, model, S.QUALITY_CHECK_FAILED, trigger, error=trigger.reason)
            return True
    return False


@dataclass
class LeaderboardOutcome:
    use_case: str
    rows: list[dict[str, Any]]
    markdown: str
    workbook: Path | None
    archived: list[str]


def build_leaderboard(
    engine: Engine, paths: EvaluationPaths, use_case: str, trigger: Trigger
) -> LeaderboardOutcome:
    """Archive models whose upload is gone, then rank the rest side by side."""
    case_dir = paths.use_case_dir(use_case)
    archived = []
    for row in models_of(engine, use_case):
        state = S(row["current_state"])
        if state is S.ARCHIVED or state in (S.QUALITY_CHECK_RUNNING, S.EVALUATION_RUNNING):
            continue
        try:
            find_dataset(paths.model_dir(use_case, row["model"]))
        except EvaluationInputError:
            with engine.begin() as conn:
                move_model(
                    conn, use_case, row["model"], S.ARCHIVED,
                    Trigger(trigger.by, trigger.run_id, "dataset removed"),
                )  # fmt: skip
            archived.append(row["model"])
    if not case_dir.is_dir():
        archive_use_case(engine, use_case, Trigger(trigger.by, trigger.run_id, "folder removed"))
    rows = sorted(
        (r for r in leaderboard_rows(engine, use_case) if r["state"] != S.ARCHIVED),
        key=lambda r: (r["f1"] is None, -(r["f1"] or 0.0), -(r["accuracy"] or 0.0), r["model"]),
    )
    cfg = read_use_case_config(paths, use_case)
    fields = (
        list(cfg.config.fields)
        if cfg.config
        else sorted({name for r in rows for name in r["per_field"]})
    )
    workbook = None
    if case_dir.is_dir():
        # "As of" the latest state change, not the wall clock: an unchanged board is the
        # same file, byte for byte.
        as_of = max((m["updated_at"] for m in models_of(engine, use_case)), default=None)
        workbook = write_leaderboard_workbook(
            paths.leaderboard_workbook(use_case), use_case=use_case, rows=rows, fields=fields,
            generated_at=as_of or now(),
        )  # fmt: skip
    return LeaderboardOutcome(
        use_case, rows, leaderboard_markdown(rows, fields), workbook, archived
    )


def issue_frame(issues: list[dict[str, Any]] | list[Issue]) -> pd.DataFrame:
    """Issues as a frame (for metadata tables), whether fresh or read back from the store."""
    records = [i if isinstance(i, dict) else i.__dict__ for i in issues]
    columns = ["severity", "check", "field", "row", "rule", "value", "message"]
    return pd.DataFrame.from_records(records, columns=columns)
