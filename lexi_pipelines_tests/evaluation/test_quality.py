from __future__ import annotations

from typing import Any

import pandas as pd

from lexi_pipelines.evaluation.config import parse_config
from lexi_pipelines.evaluation.dataset import ROW_COLUMN
from lexi_pipelines.evaluation.quality import run_quality_check

TH: dict[str, Any] = {"autonomous": {}, "human_in_loop": {}}


def frame(**cols: list[Any]) -> pd.DataFrame:
    df = pd.DataFrame(cols).astype("string")
    n = len(df)
    if "sample_id" not in df:
        df["sample_id"] = [str(i) for i in range(n)]
    df[ROW_COLUMN] = range(2, n + 2)
    return df


def rules_hit(field: dict[str, Any], values: list[Any]) -> set[tuple[int | None, str]]:
    cfg = parse_config({"fields": {"f": field}, "thresholds": TH}, "c")
    df = frame(f_golden=values, f_predicted=values)
    report = run_quality_check(df, cfg)
    return {(i.row, i.rule) for i in report.issues}


def test_string_rules() -> None:
    field = {
        "type": "string",
        "strategy": "ExactStringMatch",
        "preprocessing": {"strip_whitespace": True, "normalize_case": True},
        "validation_rules": {
            "allow_null": False,
            "min_length": 2,
            "max_length": 4,
            "pattern": "[a-z]+",
            "allowed_values": ["ab", "abc", "ab1", "abcde"],
        },
    }
    hits = rules_hit(field, [" AB ", None, "a", "abcde", "ab1", "zz"])
    assert hits == {
        (3, "allow_null"),
        (4, "min_length"),
        (4, "allowed_values"),
        (5, "max_length"),
        (6, "pattern"),
        (7, "allowed_values"),
    }


def test_numeric_rules() -> None:
    field = {
        "type": "numeric",
        "strategy": "NumericMatch",
        "preprocessing": {"normalize_format": True},
        "validation_rules": {
            "min_value": 0,
            "max_value": 100,
            "decimal_places": 2,
            "allowed_values": ["1", "1,000", "-1", "1.234"],
        },
    }
    hits = rules_hit(field, ["$1", "-1", "101", "1.234", "x", None])
    assert hits == {
        (3, "min_value"),
        (4, "max_value"),
        (4, "allowed_values"),
        (5, "decimal_places"),
        (6, "type"),
        (6, "allowed_values"),
    }


def test_date_rules() -> None:
    field = {
        "type": "date",
        "strategy": "ExactDateTimeMatch",
        "validation_rules": {
            "date_format": "%d/%m/%Y",
            "min_date": "2024-01-01",
            "max_date": "2024-12-31",
        },
    }
    hits = rules_hit(field, ["15/06/2024", "31/12/2023", "01/01/2025", "2024-06-15", "bad"])
    assert hits == {(3, "min_date"), (4, "max_date"), (5, "date_format"), (6, "date_format")}
    iso = {"type": "date", "strategy": "ExactDateTimeMatch"}
    assert rules_hit(iso, ["2024-06-15", "15.06.2024"]) == {(3, "type")}


def test_issue_fields_and_warning_severity() -> None:
    field = {
        "type": "string",
        "strategy": "ExactStringMatch",
        "validation_rules": {"max_length": 1, "severity": "warning"},
    }
    cfg = parse_config({"fields": {"f": field}, "thresholds": TH}, "c")
    report = run_quality_check(frame(f_golden=["a", "long"], f_predicted=["a", "b"]), cfg)
    (issue,) = report.issues
    assert (issue.check, issue.field, issue.row, issue.value) == (
        "field_validation",
        "f",
        3,
        "long",
    )
    assert report.passed and report.counts == {"error": 0, "warning": 1, "info": 0}


def dataset_cfg(checks: dict[str, Any]) -> Any:
    return parse_config(
        {
            "fields": {
                "a": {"type": "string", "strategy": "ExactStringMatch"},
                "b": {"type": "string", "strategy": "ExactStringMatch"},
            },
            "scenario_columns": ["sc"],
            "dataset_checks": checks,
            "thresholds": TH,
        },
        "c",
    )


DF = frame(
    sample_id=["1", "2", "3", "3"],
    document_id=["d1", "d1", "d2", None],
    sc=["x", "x", "x", "y"],
    a_golden=["v", None, "v", "v"],
    a_predicted=["v"] * 4,
    b_golden=["v", "v", "v", None],
    b_predicted=["v"] * 4,
)


def checks_hit(checks: dict[str, Any], df: pd.DataFrame = DF) -> set[tuple[str, str, Any]]:
    report = run_quality_check(df, dataset_cfg(checks))
    return {(i.check, i.rule, i.value) for i in report.issues if i.check != "unique_sample_id"}


def test_duplicate_sample_id_is_an_error() -> None:
    report = run_quality_check(DF, dataset_cfg({}))
    assert [(i.check, i.row, i.severity) for i in report.issues] == [
        ("unique_sample_id", 5, "error")
    ]
    assert not report.passed


def test_sample_size() -> None:
    assert checks_hit({"sample_size": {"min": 5}}) == {("sample_size", "min", 4)}
    assert checks_hit({"sample_size": {"max": 3}}) == {("sample_size", "max", 4)}
    assert checks_hit({"sample_size": {"min": 1, "max": 4}}) == set()


def test_distinct_documents() -> None:
    assert checks_hit({"distinct_documents": {"min": 3}}) == {("distinct_documents", "min", 2)}
    assert checks_hit({"distinct_documents": {"min": 2}}) == set()
    no_doc = DF.drop(columns=["document_id"])
    assert checks_hit({"distinct_documents": {"min": 1}}, no_doc) == {
        ("distinct_documents", "column", None)
    }


def test_samples_per_scenario() -> None:
    checks = {"samples_per_scenario": [{"column": "sc", "min": 2, "per_value": {"z": 1, "x": 4}}]}
    assert checks_hit(checks) == {
        ("samples_per_scenario", "min", "y"),
        ("samples_per_scenario", "min", "z"),
        ("samples_per_scenario", "min", "x"),
    }
    assert checks_hit({"samples_per_scenario": [{"column": "nope"}]}) == {
        ("samples_per_scenario", "column", "nope")
    }


def test_class_imbalance() -> None:
    assert checks_hit({"class_imbalance": [{"column": "sc", "max_ratio": 2}]}) == {
        ("class_imbalance", "max_ratio", 3.0)
    }
    assert checks_hit({"class_imbalance": [{"column": "sc", "max_ratio": 3}]}) == set()
    assert checks_hit({"class_imbalance": [{"column": "q", "max_ratio": 3}]}) == {
        ("class_imbalance", "column", "q")
    }


def test_missing_percentage_with_critical_fields() -> None:
    checks = {
        "missing_percentage": {"max_percent": 30, "critical_fields": ["b"], "severity": "warning"}
    }
    assert checks_hit(checks) == {("missing_percentage", "critical", 25.0)}
    checks["missing_percentage"]["max_percent"] = 20
    assert checks_hit(checks) == {
        ("missing_percentage", "max", 25.0),
        ("missing_percentage", "critical", 25.0),
    }


def test_case_normalized_fields_check_rules_ignoring_case() -> None:
    field = {
        "type": "string",
        "strategy": "ExactStringMatch",
        "preprocessing": {"normalize_case": True},
        "validation_rules": {"pattern": r"INV-\d{3}", "allowed_values": ["INV-001", "INV-002"]},
    }
    assert rules_hit(field, ["INV-001", "inv-002", "INV-1", "INV-003"]) == {
        (4, "pattern"),
        (4, "allowed_values"),
        (5, "allowed_values"),
    }
