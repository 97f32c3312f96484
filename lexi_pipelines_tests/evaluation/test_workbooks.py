from __future__ import annotations

import csv
import zipfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import numpy as np
import openpyxl
import pandas as pd
import pytest

from lexi_pipelines.evaluation import workbooks
from lexi_pipelines.evaluation.config import EvaluationConfig, parse_config
from lexi_pipelines.evaluation.dataset import ROW_COLUMN, load_dataset
from lexi_pipelines.evaluation.metrics import EvaluationResult, evaluate
from lexi_pipelines.evaluation.quality import Issue
from lexi_pipelines.evaluation.workbooks import (
    leaderboard_markdown,
    row_outcomes,
    safe_sheet_names,
    write_issue_report,
    write_leaderboard_workbook,
    write_results_workbook,
)

GENERATED = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
SHA = "0123456789abcdef" * 4
THRESHOLDS = {"autonomous": {"f1": 0.99}, "human_in_loop": {"accuracy": 0.5, "f1": 0.5}}
FIELDS: dict[str, Any] = {
    "vendor": {
        "type": "string",
        "strategy": "ExactStringMatch",
        "preprocessing": {"strip_whitespace": True, "normalize_case": True},
    },
    "total": {"type": "numeric", "strategy": "NumericMatch", "tolerance": 0.01},
    "due": {"type": "date", "strategy": "ExactDateTimeMatch"},
}
HEADER = ["sample_id", "document_id", "scenario"]
HEADER += [f"{f}_{kind}" for f in FIELDS for kind in ("golden", "predicted")]
ROWS = [
    ["s1", "d1", "typed", "Acme", "acme ", "10.00", "10.001", "2024-01-31", "2024-01-31"],
    ["s2", "d1", "scan", "Acme & Co <1>", "Acme", "5", "6", "2024-02-01", ""],
    ["s3", "d2", "typed", "", "Globex", "", "", "2024-03-01", "2024-03-02"],
    ["s4", "d2", "scan", "  Initech", "", "7", "7", "", ""],
]
OUTCOMES = {
    "vendor": ["TP", "FP+FN", "FP", "FN"],
    "total": ["TP", "FP+FN", "TN", "TP"],
    "due": ["TP", "FN", "FP+FN", "TN"],
}


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *rows])
    return path


def make_config(fields: dict[str, Any] = FIELDS) -> EvaluationConfig:
    raw = {"fields": fields, "scenario_columns": ["scenario"], "thresholds": THRESHOLDS}
    return parse_config(raw, "config.yaml")


def evaluated(tmp_path: Path) -> tuple[EvaluationConfig, pd.DataFrame, EvaluationResult]:
    config = make_config()
    frame = load_dataset(write_csv(tmp_path / "dataset.csv", HEADER, ROWS), config)
    return config, frame, evaluate(frame, config)


def write_results(path: Path, config: EvaluationConfig, frame: pd.DataFrame, result: Any) -> Path:
    return write_results_workbook(
        path,
        use_case="invoices",
        model="model-a",
        dataset_file="models/model-a/dataset.csv",
        dataset_hash=SHA,
        frame=frame,
        config=config,
        result=result,
        generated_at=GENERATED,
    )


def values(ws: Any) -> list[tuple[Any, ...]]:
    return list(ws.iter_rows(values_only=True))


def test_results_workbook_summary(tmp_path: Path) -> None:
    config, frame, result = evaluated(tmp_path)
    path = write_results(tmp_path / "out" / "results.xlsx", config, frame, result)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Summary", "vendor", "total", "due"]
    ws = wb["Summary"]
    rows = values(ws)
    blank = rows.index((None,) * ws.max_column)
    info = {r[0]: r[1] for r in rows[:blank]}
    assert info == {
        "use case": "invoices",
        "model": "model-a",
        "dataset file": "models/model-a/dataset.csv",
        "dataset sha256": SHA,
        "rows": 4,
        "generated at (UTC)": GENERATED.replace(tzinfo=None),
        "decision": result.decision,
        "autonomous: minimum f1": 0.99,
        "human_in_loop: minimum accuracy": 0.5,
        "human_in_loop: minimum f1": 0.5,
    }
    header_row = blank + 2
    assert rows[header_row - 1][:2] == ("field", "strategy")
    table = {r[0]: r[1:] for r in rows[header_row:]}
    expected = {name: (FIELDS[name]["strategy"], m) for name, m in result.per_field.items()}
    expected["overall (micro)"] = (None, result.overall)
    assert list(table) == list(expected)
    for label, (strategy, m) in expected.items():
        got = table[label]
        assert got[:5] == (strategy, m.tp, m.fp, m.fn, m.tn)
        assert got[5:] == (m.accuracy, m.precision, m.recall, m.f1)
    assert ws.cell(header_row + 1, 7).number_format == "0.00%"
    assert ws.cell(header_row, 1).font.b
    assert ws.freeze_panes == f"A{header_row + 1}"
    # The overall row is outside the filter so that sorting keeps it last.
    assert ws.auto_filter.ref == f"A{header_row}:J{header_row + len(FIELDS)}"


def test_results_workbook_field_sheets(tmp_path: Path) -> None:
    config, frame, result = evaluated(tmp_path)
    wb = openpyxl.load_workbook(write_results(tmp_path / "results.xlsx", config, frame, result))
    for name, outcomes in OUTCOMES.items():
        ws = wb[name]
        rows = values(ws)
        assert rows[0] == (
            "row",
            "sample_id",
            "document_id",
            "scenario",
            "golden",
            "predicted",
            "match",
            "outcome",
        )
        assert len(rows) == len(frame) + 1
        assert [r[0] for r in rows[1:]] == [2, 3, 4, 5]
        assert [r[1:4] for r in rows[1:]] == [tuple(r[:3]) for r in ROWS]
        assert [r[7] for r in rows[1:]] == outcomes
        assert [r[6] for r in rows[1:]] == result.matches[name].tolist()
        column = HEADER.index(f"{name}_golden")
        assert [r[4] for r in rows[1:]] == [r[column] or None for r in ROWS]
        assert [r[5] for r in rows[1:]] == [r[column + 1] or None for r in ROWS]
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref == "A1:H5"
        assert ws["A1"].font.b
        (rule_range,) = list(ws.conditional_formatting)
        assert str(rule_range.sqref) == "A2:H5"
        assert '$H2="FP+FN"' in rule_range.rules[0].formula[0]
    # Raw values survive: XML special characters and leading spaces.
    assert wb["vendor"]["E3"].value == "Acme & Co <1>"
    assert wb["vendor"]["E5"].value == "  Initech"


def test_row_outcomes_add_up_to_the_metrics() -> None:
    rng = np.random.default_rng(7)
    n = 500
    pool = np.array(["a", "b", "A ", None], dtype=object)
    frame = pd.DataFrame(
        {"v_golden": rng.choice(pool, n), "v_predicted": rng.choice(pool, n)}, dtype="string"
    )
    config = parse_config({"fields": {"v": FIELDS["vendor"]}, "thresholds": THRESHOLDS}, "c")
    result = evaluate(frame, config)
    matched = result.matches["v"].to_numpy(dtype=bool)
    counts = Counter(row_outcomes(frame, "v", config.fields["v"], matched).tolist())
    m = result.per_field["v"]
    assert counts["TP"] == m.tp
    assert counts["FP"] + counts["FP+FN"] == m.fp
    assert counts["FN"] + counts["FP+FN"] == m.fn
    assert counts["TN"] == m.tn


def test_sheet_names_are_sanitized(tmp_path: Path) -> None:
    long_bad = "a/b:c*d?e[f]g\\h and a rather long field name"
    fields = {
        long_bad: FIELDS["vendor"],
        long_bad + " again": FIELDS["vendor"],
        "summary": FIELDS["vendor"],
        "'quoted'": FIELDS["vendor"],
    }
    names = safe_sheet_names(fields, reserved=["Summary"])
    assert names == [
        "a_b_c_d_e_f_g_h and a rather lo",
        "a_b_c_d_e_f_g_h and a rathe (2)",
        "summary (2)",
        "quoted",
    ]
    assert safe_sheet_names(["", "History", "x" * 40, "x" * 40]) == [
        "sheet",
        "History (2)",
        "x" * 31,
        "x" * 27 + " (2)",
    ]
    config = make_config(fields)
    header = HEADER[:3] + [f"{f}_{kind}" for f in fields for kind in ("golden", "predicted")]
    rows = [["s1", "d1", "typed", *(["x", "x"] * len(fields))]]
    frame = load_dataset(write_csv(tmp_path / "dataset.csv", header, rows), config)
    path = write_results(tmp_path / "results.xlsx", config, frame, evaluate(frame, config))
    assert openpyxl.load_workbook(path).sheetnames == ["Summary", *names]


def test_empty_dataset_still_gives_a_workbook(tmp_path: Path) -> None:
    config = make_config()
    frame = load_dataset(write_csv(tmp_path / "dataset.csv", HEADER, []), config)
    path = write_results(tmp_path / "results.xlsx", config, frame, evaluate(frame, config))
    wb = openpyxl.load_workbook(path)
    assert values(wb["vendor"]) == [
        ("row", "sample_id", "document_id", "scenario", "golden", "predicted", "match", "outcome")
    ]


def test_failed_write_keeps_the_previous_workbook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, frame, result = evaluated(tmp_path)
    out = tmp_path / "out"
    path = write_results(out / "results.xlsx", config, frame, result)
    before = path.read_bytes()

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    # Field sheets are rendered while the zip is being written, i.e. mid-write.
    monkeypatch.setattr(workbooks, "row_outcomes", boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_results(path, config, frame, result)
    assert path.read_bytes() == before
    with pytest.raises(RuntimeError):
        write_results(out / "new.xlsx", config, frame, result)
    assert sorted(p.name for p in out.iterdir()) == ["results.xlsx"]


LEADERBOARD_ROWS: list[dict[str, Any]] = [
    {"model": "b-model", "f1": 0.9, "accuracy": 0.8},
    {"model": "e-model", "state": "quality_failed", "f1": None},
    {"model": "a-model", "f1": 0.9, "accuracy": 0.8},
    {"model": "c-model", "f1": 0.95, "accuracy": 0.7},
    {"model": "f-model", "state": "pending"},
    {"model": "d-model", "f1": 0.9, "accuracy": 0.85},
]


def leaderboard_rows() -> list[dict[str, Any]]:
    out = []
    for base in LEADERBOARD_ROWS:
        row = {
            "state": "evaluated",
            "decision": None,
            "dataset_hash": None,
            "evaluated_at": None,
            "rows": None,
            "accuracy": None,
            "precision": None,
            "recall": None,
            "per_field": {},
        } | base
        if row.get("f1") is not None:
            row |= {
                "decision": "human_in_loop",
                "dataset_hash": SHA,
                "evaluated_at": GENERATED,
                "rows": 100,
                "precision": 0.5,
                "recall": 0.25,
                "per_field": {"vendor": {"f1": row["f1"] / 2, "accuracy": 0.6}},
            }
        out.append(row)
    return out


def test_leaderboard_workbook_and_markdown(tmp_path: Path) -> None:
    rows = leaderboard_rows()
    fields = ["vendor", "total"]
    path = write_leaderboard_workbook(
        tmp_path / "leaderboard.xlsx",
        use_case="invoices",
        rows=rows,
        fields=fields,
        generated_at=GENERATED,
    )
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Leaderboard", "Per field"]
    board = values(wb["Leaderboard"])
    assert board[0][:9] == (
        "rank",
        "model",
        "state",
        "decision",
        "rows",
        "F1",
        "accuracy",
        "precision",
        "recall",
    )
    order = ["c-model", "d-model", "a-model", "b-model", "e-model", "f-model"]
    assert [(r[0], r[1]) for r in board[1:7]] == list(
        zip([1, 2, 3, 3, None, None], order, strict=True)
    )
    assert board[1][2:11] == (
        "evaluated",
        "human_in_loop",
        100,
        0.95,
        0.7,
        0.5,
        0.25,
        GENERATED.replace(tzinfo=None),
        SHA,
    )
    assert board[5][2] == "quality_failed" and board[5][5] is None
    assert board[6][2] == "pending"
    assert board[8][:2] == ("use case", "invoices")
    assert wb["Leaderboard"].auto_filter.ref == "A1:K7"
    per_field = values(wb["Per field"])
    assert per_field[0] == (
        "rank",
        "model",
        "vendor F1",
        "vendor accuracy",
        "total F1",
        "total accuracy",
    )
    assert per_field[1] == (1, "c-model", 0.475, 0.6, None, None)
    assert [r[1] for r in per_field[1:]] == order

    md = leaderboard_markdown(rows, fields).splitlines()
    assert md[0].startswith("| rank | model | state | decision | F1 | accuracy |")
    assert "F1 vendor" in md[0] and "F1 total" in md[0]
    assert [line.split(" | ")[1] for line in md[2:]] == order
    assert "| 1 | c-model | evaluated | human_in_loop | 95.00% | 70.00% |" in md[2]
    assert "2024-05-06 07:08 UTC" in md[2]
    assert "| quality_failed |" in md[6]
    assert leaderboard_markdown([], fields) == "_nothing to show_"


def test_issue_report_round_trip(tmp_path: Path) -> None:
    issues = [
        Issue("field_validation", "error", "vendor", 3, "pattern", 'Zürich, "AG"', "bad\nvalue"),
        Issue("sample_size", "warning", None, None, "min", 12, "12 samples < 50"),
        Issue("field_validation", "error", "total", 4, "min_value", "-1", "below 0"),
        Issue("field_validation", "error", "vendor", 5, "pattern", "=HYPERLINK(1)", "x"),
    ]
    path = write_issue_report(tmp_path / "reports" / "issues.csv", issues)
    assert path.read_bytes().startswith(b"\xef\xbb\xbfseverity,check,field,row,rule")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        got = list(csv.DictReader(fh))
    assert list(got[0]) == list(workbooks.ISSUE_COLUMNS)
    assert got[0] == {
        "severity": "error",
        "check": "field_validation",
        "field": "vendor",
        "row": "3",
        "rule": "pattern",
        "value": 'Zürich, "AG"',
        "message": "bad\nvalue",
    }
    assert (got[1]["field"], got[1]["row"], got[1]["value"]) == ("", "", "12")
    assert got[2]["value"] == "-1"
    # Formula-like text is defused for spreadsheet programs.
    assert got[3]["value"] == "'=HYPERLINK(1)"
    assert len(got) == len(issues)


def test_xlsx_dataset_loads_like_csv(tmp_path: Path) -> None:
    config = make_config()
    rows: list[list[Any]] = [
        [1, "d1", "typed", "Acme", "acme", 10.5, 10.5, "2024-01-31", "2024-01-31"],
        ["s2", "d1", "scan", "A & B", None, 7, "7", "2024-02-01", "   "],
        ["s3", None, "typed", " Initech ", "x", -1, 0.25, "", "2024-03-01"],
    ]
    text_rows = [["" if v is None else str(v) for v in row] for row in rows]
    from_csv = load_dataset(write_csv(tmp_path / "dataset.csv", HEADER, text_rows), config)
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for row in [HEADER, *rows]:
        ws.append(row)
    wb.save(tmp_path / "dataset.xlsx")
    from_xlsx = load_dataset(tmp_path / "dataset.xlsx", config)
    pd.testing.assert_frame_equal(from_xlsx, from_csv)


def test_awkward_text_round_trips(tmp_path: Path) -> None:
    awkward = [
        "tab\tinside",
        "line\nbreak",
        " leading",
        "trailing ",
        "control\x01char\ufffe",
        "emoji 😀 ß",
        "]]> & <b>\"q\" 'a'",
        "x" * 40_000,
    ]
    name = "a&b'c"
    config = make_config({name: FIELDS["vendor"]})
    frame = pd.DataFrame(
        {
            "sample_id": [f"s{i}" for i in range(len(awkward))],
            "scenario": awkward,
            f"{name}_golden": awkward,
            f"{name}_predicted": awkward[::-1],
        },
        dtype="string",
    )
    frame[ROW_COLUMN] = range(2, len(awkward) + 2)
    path = write_results(tmp_path / "results.xlsx", config, frame, evaluate(frame, config))
    with zipfile.ZipFile(path) as zf:
        for part in zf.namelist():
            ElementTree.fromstring(zf.read(part))  # every part is well-formed XML
    ws = openpyxl.load_workbook(path)[name]
    expected = [v.replace("\x01", "").replace("\ufffe", "")[:32_767] for v in awkward]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    # columns: row, sample_id, scenario, golden, predicted, ...
    assert [r[2] for r in rows] == expected
    assert [r[3] for r in rows] == expected
    assert [r[4] for r in rows] == expected[::-1]
