"""The seed's example use case: invoice extraction by three external models.

``write_use_case`` lays out evaluations/invoices/ with its config and one dataset per model:

* ``gpt-4``: clean golden data, good predictions (passes QC, completes, ``human_in_loop``+);
* ``claude-3``: golden data with errors (bad invoice numbers, a negative total, a date out of
  range): fails QC; :func:`fixed_rows` is its corrected re-upload;
* ``gemini``: clean data, weaker predictions.

The demo data under lexi_pipelines/demo_data/evaluations is this module's output
(``python -m lexi_pipelines_tests.evaluation.flow_data <dir>``).
"""

from __future__ import annotations

import csv
import json
import random
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

USE_CASE = "invoices"
MODELS = ("gpt-4", "claude-3", "gemini")
VENDORS = ["Acme Corp", "Globex Industries", "Initech LLC", "Umbrella Supplies", "Stark Parts"]
CURRENCIES = ["USD"] * 6 + ["EUR"] * 3 + ["GBP"]
COLUMNS = ["invoice_number", "vendor", "total", "invoice_date", "currency"]

CONFIG: dict[str, Any] = {
    "description": "Invoice header extraction: three external models compared",
    "notify": ["ml-team@example.com"],
    "fields": {
        "invoice_number": {
            "type": "string",
            "strategy": "ExactStringMatch",
            "preprocessing": {"strip_whitespace": True, "normalize_case": True},
            "validation_rules": {"allow_null": False, "pattern": r"INV-\d{5}"},
        },
        "vendor": {
            "type": "string",
            "strategy": "FuzzyStringMatch",
            "threshold": 0.85,
            "preprocessing": {"strip_whitespace": True, "normalize_case": True},
            "validation_rules": {"min_length": 2, "max_length": 80},
        },
        "total": {
            "type": "numeric",
            "strategy": "NumericMatch",
            "tolerance": 0.01,
            "preprocessing": {"normalize_format": True},
            "validation_rules": {
                "allow_null": False,
                "min_value": 0,
                "max_value": 1000000,
                "decimal_places": 2,
            },
        },
        "invoice_date": {
            "type": "date",
            "strategy": "ExactDateTimeMatch",
            "validation_rules": {
                "date_format": "%Y-%m-%d",
                "min_date": "2020-01-01",
                "max_date": "2026-12-31",
            },
        },
        "currency": {
            "type": "string",
            "strategy": "ExactStringMatch",
            "validation_rules": {"allowed_values": ["USD", "EUR", "GBP"]},
        },
    },
    "scenario_columns": ["document_type"],
    "dataset_checks": {
        "sample_size": {"min": 50, "severity": "error"},
        "distinct_documents": {"min": 20, "severity": "error"},
        "samples_per_scenario": [{"column": "document_type", "min": 10, "severity": "error"}],
        "class_imbalance": [{"column": "currency_golden", "max_ratio": 4, "severity": "warning"}],
        "missing_percentage": {
            "max_percent": 10,
            "critical_fields": ["invoice_number", "total"],
            "critical_max_percent": 0,
            "severity": "error",
        },
    },
    "thresholds": {
        "autonomous": {"accuracy": 0.95, "f1": 0.95},
        "human_in_loop": {"accuracy": 0.8, "f1": 0.8},
    },
}


def golden_rows(n: int = 60, seed: int = 7) -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        day = date(2024, 1, 1) + timedelta(days=rng.randrange(600))
        rows.append(
            {
                "sample_id": f"s{i:03d}",
                "document_id": f"doc-{i // 2:03d}",
                "document_type": "scanned" if i % 3 == 0 else "digital",
                "invoice_number": f"INV-{10000 + i:05d}",
                "vendor": rng.choice(VENDORS),
                "total": f"{rng.uniform(10, 5000):.2f}",
                "invoice_date": day.isoformat(),
                "currency": rng.choice(CURRENCIES),
            }
        )
    return rows


def _typo(text: str, rng: random.Random) -> str:
    i = rng.randrange(len(text))
    return text[:i] + text[i + 1 :]


def _wrong(col: str, value: str, rng: random.Random) -> str:
    if col == "invoice_number":
        return f"INV-{rng.randrange(99999):05d}"
    if col == "vendor":
        return _typo(_typo(value, rng), rng) + " Holdings"
    if col == "total":
        return f"{float(value) * 1.1:.2f}"
    if col == "invoice_date":
        return "2023-02-28"
    return "EUR" if value != "EUR" else "USD"


def predictions(golden: list[dict[str, str]], error_rate: float, seed: int) -> list[dict[str, str]]:
    """Dataset rows: golden columns plus predictions wrong at ``error_rate`` per field."""
    rng = random.Random(seed)
    out = []
    for g in golden:
        row = {k: g[k] for k in ("sample_id", "document_id", "document_type")}
        for col in COLUMNS:
            value = g[col]
            pred = value
            if col == "vendor" and rng.random() < 0.3:
                pred = f"  {value.upper()} "  # preprocessing makes this a match
            if rng.random() < error_rate:
                pred = _wrong(col, value, rng)
            row[f"{col}_golden"] = value
            row[f"{col}_predicted"] = pred
        out.append(row)
    return out


def broken_golden(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """claude-3's first upload: three golden errors QC must catch."""
    rows = [dict(r) for r in rows]
    rows[4]["invoice_number_golden"] = "INV-12"
    rows[9]["total_golden"] = "-15.00"
    rows[17]["invoice_date_golden"] = "2019-06-30"
    return rows


def dataset_rows(model: str) -> list[dict[str, str]]:
    golden = golden_rows()
    if model == "gpt-4":
        return predictions(golden, 0.03, seed=1)
    if model == "claude-3":
        return broken_golden(predictions(golden, 0.12, seed=2))
    return predictions(golden, 0.25, seed=3)


def fixed_rows() -> list[dict[str, str]]:
    return predictions(golden_rows(), 0.12, seed=2)


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_use_case(root: Path, models: tuple[str, ...] = MODELS) -> Path:
    """Write evaluations/invoices/ under ``root`` (the evaluations folder); returns its path."""
    case = root / USE_CASE
    case.mkdir(parents=True, exist_ok=True)
    (case / "config.json").write_text(json.dumps(CONFIG, indent=2) + "\n")
    for model in models:
        write_csv(case / "models" / model / "dataset.csv", dataset_rows(model))
    return case


if __name__ == "__main__":
    write_use_case(Path(sys.argv[1]))
