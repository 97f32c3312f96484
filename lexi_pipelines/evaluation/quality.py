"""Vectorized quality check: field-level validation rules and dataset-level checks.

Field rules run on the golden column (the reference data that QC guards); predicted values are
model output and are scored by :mod:`.metrics` instead. Every rule is one boolean mask over the
whole column; only the failing rows become :class:`Issue` objects.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from lexi_pipelines.evaluation.config import FIELD_CHECK, EvaluationConfig, FieldConfig, Severity
from lexi_pipelines.evaluation.dataset import DOCUMENT_ID, ROW_COLUMN, SAMPLE_ID, golden
from lexi_pipelines.evaluation.matching import parse_dates, preprocess, to_dates, to_numbers

_DECIMALS = re.compile(r"\.(\d*)$")


@dataclass(frozen=True)
class Issue:
    check: str
    severity: Severity
    field: str | None
    row: int | None
    rule: str
    value: Any
    message: str


@dataclass(frozen=True)
class QualityReport:
    issues: list[Issue] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not any(i.severity == "error" for i in self.issues)

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(i.severity for i in self.issues)
        return {sev: found.get(sev, 0) for sev in ("error", "warning", "info")}


def _issues_for(
    frame: pd.DataFrame, mask: pd.Series, name: str, cfg: FieldConfig, rule: str, why: str
) -> list[Issue]:
    hits = np.flatnonzero(mask.fillna(False).to_numpy(dtype=bool))
    rows = frame[ROW_COLUMN].to_numpy()[hits]
    values = frame[golden(name)].take(hits).to_numpy()  # not the whole column
    sev = cfg.validation_rules.severity
    return [
        Issue(FIELD_CHECK, sev, name, int(r), rule, None if pd.isna(v) else v, f"{name}: {why}")
        for r, v in zip(rows, values, strict=True)
    ]


def _decimals(text: pd.Series) -> npt.NDArray[np.int64]:
    """Digits after the final "." as written (floats cannot tell "1.50" from "1.5"), 0 for
    null; ``re`` runs once per distinct value, as pandas would run it once per row."""
    codes, uniques = pd.factorize(text)
    counts = [len(m.group(1)) if (m := _DECIMALS.search(v)) else 0 for v in uniques.tolist()]
    return np.append(np.array(counts, dtype=np.int64), 0)[codes]


def check_field(frame: pd.DataFrame, name: str, cfg: FieldConfig) -> list[Issue]:
    rules = cfg.validation_rules
    raw = frame[golden(name)]
    text = preprocess(raw, cfg)
    null = text.isna()
    present = ~null
    out: list[Issue] = []

    def add(mask: pd.Series, rule: str, why: str) -> None:
        out.extend(_issues_for(frame, mask & present, name, cfg, rule, why))

    if not rules.allow_null:
        out.extend(_issues_for(frame, null, name, cfg, "allow_null", "value is required"))
    # With normalize_case the values are casefolded, so the rules must ignore case too.
    fold = cfg.preprocessing.normalize_case
    if rules.allowed_values is not None:
        allowed = [v.casefold() for v in rules.allowed_values] if fold else rules.allowed_values
        add(~text.isin(allowed), "allowed_values", "value is not allowed")

    if cfg.type == "string":
        length = text.str.len()
        if rules.min_length is not None:
            add(length < rules.min_length, "min_length", f"shorter than {rules.min_length}")
        if rules.max_length is not None:
            add(length > rules.max_length, "max_length", f"longer than {rules.max_length}")
        if rules.pattern is not None:
            matches = text.str.fullmatch(rules.pattern, flags=re.IGNORECASE if fold else 0)
            add(~matches, "pattern", f"does not match {rules.pattern}")
    elif cfg.type == "numeric":
        number = to_numbers(text)
        add(number.isna(), "type", "not a number")
        if rules.min_value is not None:
            add(number < rules.min_value, "min_value", f"below {rules.min_value}")
        if rules.max_value is not None:
            add(number > rules.max_value, "max_value", f"above {rules.max_value}")
        if rules.decimal_places is not None:
            decimals = _decimals(text)
            add(
                number.notna() & (decimals > rules.decimal_places),
                "decimal_places",
                f"more than {rules.decimal_places} decimal places",
            )
    else:
        if rules.date_format is not None:
            when = parse_dates(text, rules.date_format)
            add(when.isna(), "date_format", f"not a date in format {rules.date_format}")
        else:
            when = to_dates(text, None)
            add(when.isna(), "type", "not an ISO 8601 date")
        day = when.dt.normalize()
        if rules.min_date is not None:
            add(day < pd.Timestamp(rules.min_date), "min_date", f"before {rules.min_date}")
        if rules.max_date is not None:
            add(day > pd.Timestamp(rules.max_date), "max_date", f"after {rules.max_date}")
    return out


def _dataset_issue(check: str, severity: Severity, message: str, **kw: Any) -> Issue:
    return Issue(
        check=check,
        severity=severity,
        field=kw.get("field"),
        row=kw.get("row"),
        rule=kw.get("rule", check),
        value=kw.get("value"),
        message=message,
    )


def _missing_column(check: str, severity: Severity, column: str) -> Issue:
    return _dataset_issue(check, severity, f"no column {column}", rule="column", value=column)


def check_dataset(frame: pd.DataFrame, config: EvaluationConfig) -> list[Issue]:
    checks = config.dataset_checks
    out: list[Issue] = []
    n = len(frame)

    dup = frame[SAMPLE_ID].duplicated(keep="first").to_numpy()
    for r, v in zip(
        frame[ROW_COLUMN].to_numpy()[dup], frame[SAMPLE_ID].to_numpy()[dup], strict=True
    ):
        out.append(
            _dataset_issue(
                "unique_sample_id", "error", f"duplicate sample_id {v}", row=int(r), value=v
            )
        )

    if (size := checks.sample_size) is not None:
        if size.min is not None and n < size.min:
            out.append(
                _dataset_issue(
                    "sample_size", size.severity, f"{n} samples < {size.min}", rule="min", value=n
                )
            )
        if size.max is not None and n > size.max:
            out.append(
                _dataset_issue(
                    "sample_size", size.severity, f"{n} samples > {size.max}", rule="max", value=n
                )
            )

    if (docs := checks.distinct_documents) is not None:
        if DOCUMENT_ID not in frame.columns:
            out.append(
                _dataset_issue(
                    "distinct_documents", docs.severity, "no document_id column", rule="column"
                )
            )
        else:
            distinct = int(frame[DOCUMENT_ID].nunique(dropna=True))
            if distinct < docs.min:
                out.append(
                    _dataset_issue(
                        "distinct_documents",
                        docs.severity,
                        f"{distinct} distinct documents < {docs.min}",
                        rule="min",
                        value=distinct,
                    )
                )

    for sc in checks.samples_per_scenario:
        if sc.column not in frame.columns:
            out.append(_missing_column("samples_per_scenario", sc.severity, sc.column))
            continue
        counts = frame[sc.column].value_counts(dropna=True)
        needed = {str(k): sc.min for k in counts.index} | sc.per_value
        for value, minimum in needed.items():
            have = int(counts.get(value, 0))
            if have < minimum:
                out.append(
                    _dataset_issue(
                        "samples_per_scenario",
                        sc.severity,
                        f"{sc.column}={value}: {have} samples < {minimum}",
                        rule="min",
                        value=value,
                    )
                )

    for ci in checks.class_imbalance:
        if ci.column not in frame.columns:
            out.append(_missing_column("class_imbalance", ci.severity, ci.column))
            continue
        counts = frame[ci.column].value_counts(dropna=True)
        if len(counts) >= 2:
            ratio = float(counts.max() / counts.min())
            if ratio > ci.max_ratio:
                out.append(
                    _dataset_issue(
                        "class_imbalance",
                        ci.severity,
                        f"{ci.column}: largest/smallest class = {ratio:.2f} > {ci.max_ratio}",
                        rule="max_ratio",
                        value=ratio,
                    )
                )

    if (mp := checks.missing_percentage) is not None and n:
        for name in config.fields:
            pct = float(frame[golden(name)].isna().mean() * 100)
            critical = name in mp.critical_fields
            limit = mp.critical_max_percent if critical else mp.max_percent
            if pct > limit:
                kind = "critical field " if critical else ""
                out.append(
                    _dataset_issue(
                        "missing_percentage",
                        mp.severity,
                        f"{kind}{name}: {pct:.1f}% missing > {limit}%",
                        field=name,
                        rule="critical" if critical else "max",
                        value=round(pct, 3),
                    )
                )
    return out


def run_quality_check(frame: pd.DataFrame, config: EvaluationConfig) -> QualityReport:
    issues: list[Issue] = []
    for name, cfg in config.fields.items():
        issues += check_field(frame, name, cfg)
    issues += check_dataset(frame, config)
    return QualityReport(issues)
