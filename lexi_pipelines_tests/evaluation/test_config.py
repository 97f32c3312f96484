from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from lexi_pipelines.evaluation.config import load_config, parse_config
from lexi_pipelines.evaluation.dataset import ROW_COLUMN, load_dataset
from lexi_pipelines.evaluation.errors import EvaluationInputError

THRESHOLDS = {"autonomous": {"accuracy": 0.9}, "human_in_loop": {"accuracy": 0.5}}


def base(**fields: Any) -> dict[str, Any]:
    return {"fields": fields, "thresholds": THRESHOLDS}


def test_yaml_and_json_load(tmp_path: Path) -> None:
    raw = base(total={"type": "numeric", "strategy": "NumericMatch", "tolerance": 0.01})
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(raw))
    assert load_config(tmp_path).fields["total"].tolerance == 0.01
    (tmp_path / "config.json").write_text(json.dumps(raw))
    assert load_config(tmp_path / "config.json").fields["total"].strategy == "NumericMatch"


@pytest.mark.parametrize(
    ("field", "key"),
    [
        ({"type": "numeric", "strategy": "Bogus"}, "fields.invoice_total.strategy"),
        ({"type": "numeric", "strategy": "FuzzyStringMatch"}, "fields.invoice_total.strategy"),
        ({"type": "money", "strategy": "NumericMatch"}, "fields.invoice_total.type"),
        (
            {"type": "string", "strategy": "FuzzyStringMatch", "threshold": 1.5},
            "fields.invoice_total.threshold",
        ),
        (
            {"type": "numeric", "strategy": "NumericMatch", "tolerance": -1},
            "fields.invoice_total.tolerance",
        ),
        (
            {
                "type": "string",
                "strategy": "ExactStringMatch",
                "validation_rules": {"min_value": 1},
            },
            "fields.invoice_total.validation_rules",
        ),
        (
            {
                "type": "string",
                "strategy": "ExactStringMatch",
                "validation_rules": {"pattern": "("},
            },
            "fields.invoice_total.validation_rules.pattern",
        ),
        ({"strategy": "NumericMatch"}, "fields.invoice_total.type"),
        (
            {"type": "numeric", "strategy": "NumericMatch", "tolernce": 1},
            "fields.invoice_total.tolernce",
        ),
    ],
)
def test_bad_field_names_key_path(tmp_path: Path, field: dict[str, Any], key: str) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(base(invoice_total=field)))
    with pytest.raises(EvaluationInputError) as err:
        load_config(path)
    assert err.value.key == key
    assert str(path) in str(err.value)


def test_missing_thresholds_and_unreadable(tmp_path: Path) -> None:
    with pytest.raises(EvaluationInputError) as err:
        parse_config({"fields": {"a": {"type": "string", "strategy": "ExactStringMatch"}}}, "c")
    assert err.value.key == "thresholds"
    bad = tmp_path / "config.json"
    bad.write_text("{not json")
    with pytest.raises(EvaluationInputError, match="not valid json"):
        load_config(bad)
    with pytest.raises(EvaluationInputError, match="cannot read"):
        load_config(tmp_path / "config.yaml")
    with pytest.raises(EvaluationInputError, match="no config"):
        load_config(_empty(tmp_path))
    with pytest.raises(EvaluationInputError, match="top level"):
        parse_config([1], "c")


def _empty(tmp_path: Path) -> Path:
    d = tmp_path / "empty"
    d.mkdir()
    return d


def test_critical_field_must_exist() -> None:
    raw = base(a={"type": "string", "strategy": "ExactStringMatch"})
    raw["dataset_checks"] = {"missing_percentage": {"max_percent": 5, "critical_fields": ["zz"]}}
    with pytest.raises(EvaluationInputError, match="unknown fields"):
        parse_config(raw, "c")


CFG = parse_config(
    {**base(vendor={"type": "string", "strategy": "ExactStringMatch"}), "scenario_columns": ["sc"]},
    "c",
)


def test_dataset_loads_and_normalizes(tmp_path: Path) -> None:
    path = tmp_path / "dataset.csv"
    pd.DataFrame(
        {
            "sample_id": ["1", "2"],
            "sc": ["a", "b"],
            "vendor_golden": ["x", "  "],
            "vendor_predicted": ["x", "y"],
        }
    ).to_csv(path, index=False)
    frame = load_dataset(tmp_path, CFG)
    assert frame["vendor_golden"].isna().tolist() == [False, True]
    assert frame[ROW_COLUMN].tolist() == [2, 3]


def test_dataset_errors_name_file_row_column(tmp_path: Path) -> None:
    path = tmp_path / "dataset.csv"
    path.write_text("sample_id,sc,vendor_golden\n1,a,x\n")
    with pytest.raises(EvaluationInputError) as err:
        load_dataset(path, CFG)
    assert (err.value.column, err.value.row, err.value.file) == ("vendor_predicted", 1, str(path))
    path.write_text("sample_id,sc,vendor_golden,vendor_predicted\n1,a,x,x\n,a,x,x\n")
    with pytest.raises(EvaluationInputError) as err:
        load_dataset(path, CFG)
    assert (err.value.column, err.value.row) == ("sample_id", 3)
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(EvaluationInputError, match="cannot read"):
        load_dataset(path, CFG)
    with pytest.raises(EvaluationInputError, match="unsupported"):
        load_dataset(tmp_path / "dataset.txt", CFG)
    with pytest.raises(EvaluationInputError, match="no dataset"):
        load_dataset(_empty(tmp_path), CFG)


def test_xlsx_dates_load_as_the_text_a_csv_export_holds(tmp_path: Path) -> None:
    from datetime import date, datetime

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["sample_id", "a_golden", "a_predicted"])
    sheet.append(["s1", date(2024, 1, 31), datetime(2024, 1, 31, 13, 5)])
    sheet.append(["s2", 12, 12.5])
    path = tmp_path / "dataset.xlsx"
    book.save(path)
    cfg = parse_config(
        {
            "fields": {"a": {"type": "string", "strategy": "ExactStringMatch"}},
            "thresholds": THRESHOLDS,
        },
        "c",
    )
    frame = load_dataset(path, cfg)
    assert frame["a_golden"].tolist() == ["2024-01-31", "12"]
    assert frame["a_predicted"].tolist() == ["2024-01-31 13:05:00", "12.5"]


def test_a_corrupt_xlsx_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "dataset.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(EvaluationInputError, match=r"dataset\.xlsx: cannot read the file"):
        load_dataset(path, CFG)
