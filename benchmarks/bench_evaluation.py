"""Evaluation benchmark: quality check + evaluation of a 100,000-row, 10-field dataset.

Generates (seeded) a realistic invoice-extraction ``dataset.csv`` + ``config.json``: 10 fields
covering every strategy (exact, fuzzy with a threshold, numeric with a tolerance, date with and
without a format), every preprocessing option, every field rule and every dataset-level check,
with noise: nulls and whitespace-only cells, ~0.5 % invalid golden values per field, 5-20 %
wrong predictions (worse on handwritten/fax scans), OCR-like near misses for the fuzzy fields,
case/whitespace/format variants that must still match, duplicate sample ids, document ids and
two scenario columns. Then prints seconds and rows/s of:

- loading (``dataset.load_dataset``), QC (``quality.run_quality_check``), evaluation
  (``metrics.evaluate``), QC + evaluation, and writing the results workbook when
  ``evaluation/workbooks.py`` provides ``write_results_workbook`` (medians of ``--repeat``);
- in the same run, a naive baseline as the seed's old system did it: ``csv.DictReader`` and a
  Python loop per row and per field over the same rules and the same matching (a textbook
  Levenshtein per differing pair), and the ratio naive / vectorized.

Both sides must find the same issues (check, field, row, rule, value) and the same TP/FP/FN/TN
per field, so that the ratio compares equal work; the script says ``agree: yes`` or stops.
Targets (2 cores): QC + evaluation of 100k x 10 fields well under 10 s, ratio >= 10x.

Usage::

    python benchmarks/bench_evaluation.py [--rows 100000] [--repeat 3] [--seed 7] [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import functools
import hashlib
import importlib
import json
import math
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lexi_pipelines.evaluation.config import FIELD_CHECK, EvaluationConfig, FieldConfig, load_config
from lexi_pipelines.evaluation.dataset import load_dataset
from lexi_pipelines.evaluation.metrics import evaluate
from lexi_pipelines.evaluation.quality import run_quality_check

Row = dict[str, str | None]
IssueKey = tuple[str, str | None, int | None, str, Any]

# ---------------------------------------------------------------------------------------------
# Dataset generator
# ---------------------------------------------------------------------------------------------

_COMPANIES = (
    *("Northwind", "Contoso", "Fabrikam", "Globex", "Initech", "Umbrella", "Vandelay", "Soylent"),
    *("Tyrell", "Cyberdyne", "Wonka", "Aperture", "Oscorp", "Hooli", "Massive Dynamic", "Krusty"),
    *("Duff", "Monarch", "Nakatomi", "Weyland", "Gekko", "Prestige", "Blue Sun", "Sirius"),
    *("Virtucon", "Dunder Mifflin", "Bluth", "Sterling Cooper", "Ollivander", "Gringotts"),
)
_TRADES = ("Trading", "Logistics", "Industries", "Supplies", "Consulting", "Foods", "Systems")
_FORMS = ("GmbH", "Ltd", "Inc.", "LLC", "S.A.", "B.V.", "AG", "plc", "SARL", "Oy")
_STREETS = (
    *("Hauptstraße", "Bahnhofstraße", "Market Street", "Rue de la Paix", "Kingsway"),
    *("Calle Mayor", "Via Roma", "Baker Street", "Elm Avenue", "Lindenallee", "Dorfstraße"),
    *("Harbour Road", "Station Road", "High Street", "Avenue des Champs-Élysées"),
)
_CITIES = (
    *("Berlin", "München", "Zürich", "Wien", "London", "Manchester", "Paris", "Lyon", "Madrid"),
    *("Milano", "Amsterdam", "Rotterdam", "Dublin", "Helsinki", "Stockholm", "Oslo"),
    *("København", "Praha", "Warszawa", "Lisboa"),
)
_CURRENCIES = ("EUR", "EUR", "EUR", "USD", "USD", "GBP", "CHF", "SEK", "JPY")
_TERMS = ("Net 30", "Net 30", "Net 60", "Net 90", "Due on receipt", "2/10 Net 30", "End of month")
_TAX_RATES = ("19", "20", "21", "7", "10", "0", "5", "7.5")
_SCENARIOS = (("clean", 0.60), ("scanned", 0.20), ("handwritten", 0.10), ("fax", 0.07))
_SCENARIOS_TAIL = "rotated"  # the remaining 3 %
# How much more often a prediction is wrong on this kind of page.
_DIFFICULTY = {"clean": 0.6, "scanned": 1.0, "handwritten": 2.2, "fax": 1.8, "rotated": 1.5}
# Glyphs OCR confuses: (seen, read as).
_OCR: tuple[tuple[str, str], ...] = (
    *(("O", "0"), ("0", "O"), ("l", "1"), ("1", "l"), ("S", "5"), ("B", "8"), ("rn", "m")),
    *(("m", "rn"), ("e", "c"), ("a", "o"), ("i", "l"), ("ß", "ss"), ("ü", "u"), ("é", "e")),
)

FIELD_NAMES = (
    "invoice_number",
    "vendor_name",
    "vendor_address",
    "currency",
    "payment_terms",
    "total_amount",
    "tax_rate",
    "quantity",
    "invoice_date",
    "due_date",
)


def make_config(rows: int) -> dict[str, Any]:
    """The use case's config: every strategy, preprocessing option, rule and dataset check."""
    return {
        "fields": {
            "invoice_number": {
                "type": "string",
                "strategy": "ExactStringMatch",
                "preprocessing": {"strip_whitespace": True},
                "validation_rules": {
                    "allow_null": False,
                    "min_length": 10,
                    "max_length": 10,
                    "pattern": r"INV-\d{6}",
                },
            },
            "vendor_name": {
                "type": "string",
                "strategy": "FuzzyStringMatch",
                "threshold": 0.85,
                "preprocessing": {
                    "strip_whitespace": True,
                    "normalize_case": True,
                    "normalize_format": True,
                },
                "validation_rules": {"allow_null": False, "min_length": 3, "max_length": 60},
            },
            "vendor_address": {
                "type": "string",
                "strategy": "FuzzyStringMatch",
                "threshold": 0.9,
                "preprocessing": {"strip_whitespace": True, "normalize_format": True},
                "validation_rules": {"max_length": 70, "severity": "info"},
            },
            "currency": {
                "type": "string",
                "strategy": "ExactStringMatch",
                "preprocessing": {"strip_whitespace": True, "normalize_case": True},
                "validation_rules": {
                    "allow_null": False,
                    "allowed_values": ["EUR", "USD", "GBP", "CHF", "SEK", "JPY"],
                },
            },
            "payment_terms": {
                "type": "string",
                "strategy": "FuzzyStringMatch",
                "threshold": 0.8,
                "preprocessing": {"strip_whitespace": True, "normalize_case": True},
                "validation_rules": {
                    "allowed_values": list(dict.fromkeys(_TERMS)),
                    "severity": "warning",
                },
            },
            "total_amount": {
                "type": "numeric",
                "strategy": "NumericMatch",
                "tolerance": 0.01,
                "preprocessing": {"strip_whitespace": True, "normalize_format": True},
                "validation_rules": {
                    "allow_null": False,
                    "min_value": 0,
                    "max_value": 1_000_000,
                    "decimal_places": 2,
                },
            },
            "tax_rate": {
                "type": "numeric",
                "strategy": "NumericMatch",
                "validation_rules": {"allowed_values": list(dict.fromkeys(_TAX_RATES))},
            },
            "quantity": {
                "type": "numeric",
                "strategy": "ExactStringMatch",
                "preprocessing": {"strip_whitespace": True},
                "validation_rules": {"min_value": 1, "max_value": 10_000, "decimal_places": 0},
            },
            "invoice_date": {
                "type": "date",
                "strategy": "ExactDateTimeMatch",
                "preprocessing": {"strip_whitespace": True},
                "validation_rules": {
                    "allow_null": False,
                    "date_format": "%d/%m/%Y",
                    "min_date": "2015-01-01",
                    "max_date": "2025-12-31",
                },
            },
            "due_date": {
                "type": "date",
                "strategy": "ExactDateTimeMatch",
                "validation_rules": {
                    "min_date": "2015-01-01",
                    "max_date": "2026-12-31",
                    "severity": "warning",
                },
            },
        },
        "scenario_columns": ["scenario", "layout"],
        "dataset_checks": {
            "sample_size": {"min": 1000, "max": 1_000_000},
            # ~3 samples per document, so this one warns.
            "distinct_documents": {"min": max(1, rows // 2), "severity": "warning"},
            "samples_per_scenario": [
                {
                    "column": "scenario",
                    "min": max(1, rows // 50),
                    "per_value": {"handwritten": rows * 12 // 100, "low_light": 10},
                },
                {"column": "layout", "min": 100, "severity": "warning"},
            ],
            "class_imbalance": [
                {"column": "scenario", "max_ratio": 10, "severity": "warning"},
                {"column": "layout", "max_ratio": 5},
            ],
            "missing_percentage": {
                "max_percent": 5,
                "critical_fields": ["invoice_number", "total_amount", "invoice_date"],
                "critical_max_percent": 0.1,
                "severity": "warning",
            },
        },
        "thresholds": {
            "autonomous": {"accuracy": 0.95, "f1": 0.95},
            "human_in_loop": {"accuracy": 0.8, "f1": 0.8},
        },
    }


def _ocr_slip(rng: random.Random, text: str) -> str:
    """One or two OCR-like slips: a confusable glyph, a dropped or swapped character."""
    for _ in range(rng.choice((1, 1, 2))):
        kind = rng.random()
        if kind < 0.5:
            pairs = [(a, b) for a, b in _OCR if a in text]
            if pairs:
                a, b = rng.choice(pairs)
                at = rng.choice([m.start() for m in re.finditer(re.escape(a), text)])
                text = text[:at] + b + text[at + len(a) :]
                continue
        if len(text) > 3:
            at = rng.randrange(len(text) - 1)
            if kind < 0.8:
                text = text[:at] + text[at + 1 :]
            else:
                text = text[:at] + text[at + 1] + text[at] + text[at + 2 :]
    return text


def _case_space_variant(rng: random.Random, text: str) -> str:
    return rng.choice(
        (text.upper(), text.lower(), f" {text}", f"{text}  ", text.replace(" ", "  "))
    )


def _money(value: float, rng: random.Random) -> str:
    style = rng.random()
    if style < 0.6:
        return f"{value:.2f}"
    if style < 0.85:
        return f"{value:,.2f}"
    if style < 0.95:
        return f"${value:,.2f}"
    return f"€ {value:.2f}"


class _Gen:
    """Golden and predicted values, one field at a time, for one row."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.vendors = [
            f"{c} {t} {f}"
            for c in _COMPANIES
            for t in _TRADES
            for f in _FORMS
            if rng.random() < 0.5
        ]
        self.addresses = [
            f"{rng.randint(1, 250)} {rng.choice(_STREETS)}, {rng.randint(1000, 99999)} "
            f"{rng.choice(_CITIES)}"
            for _ in range(3000)
        ]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def golden(self, name: str, doc: dict[str, Any]) -> str:
        """A valid golden value (the document's own for document-level fields)."""
        r = self.rng
        if name == "quantity":
            return str(r.choice((1, 1, 1, 2, 2, 3, 4, 5, 10, 12, 24, 50, 100, r.randint(1, 999))))
        if name == "total_amount":
            return _money(round(r.lognormvariate(6, 1.6), 2) % 900_000, r)
        return str(doc[name])

    def invalid(self, name: str, value: str) -> str:
        """A golden value that breaks one of the field's rules (~0.5 % of cells)."""
        r = self.rng
        options: dict[str, tuple[str, ...]] = {
            "invoice_number": (value[:-1], value.lower(), value.replace("-", " "), value + "7"),
            "vendor_name": ("X", "AB", value + " " + value + " Holdings International"),
            "vendor_address": (value + ", Building 4, Floor 12, Industrial Estate North",),
            "currency": ("EURO", "€", "US$", "Dollar"),
            "payment_terms": ("Net 45", "COD", "Net 15 days"),
            "total_amount": ("-" + value.lstrip("$€ "), "12.345", "1.234,56", "n/a", "12.3.4"),
            "tax_rate": ("19%", "19.0", "0.19", "zero", "16"),
            "quantity": ("0", "2.5", "-1", "ten", "20000"),
            "invoice_date": ("2024-06-15", "31/02/2024", "15/06/2031", "01/01/2009", "15.06.2024"),
            "due_date": ("2024/06/15", "15.06.2024", "2024-02-30", "2030-01-31", "2014-12-31"),
        }
        return r.choice(options[name])

    def wrong(self, name: str, golden: str, doc: dict[str, Any]) -> str:
        """A prediction that differs from the golden value (some still match after rules)."""
        r = self.rng
        if name in ("vendor_name", "vendor_address"):
            if self.chance(0.55):
                return _ocr_slip(r, golden)
            if self.chance(0.35):
                return _case_space_variant(r, golden)
            return r.choice(self.vendors if name == "vendor_name" else self.addresses)
        if name == "invoice_number":
            return r.choice(
                (_ocr_slip(r, golden), f" {golden} ", f"INV-{r.randint(0, 999999):06d}")
            )
        if name == "currency":
            return r.choice(("EUR", "USD", "GBP", "€", "$", golden.lower(), f" {golden}"))
        if name == "payment_terms":
            return r.choice(
                (*_TERMS, golden.replace(" ", ""), golden.upper(), _ocr_slip(r, golden))
            )
        if name == "total_amount":
            amount = naive_number(re.sub(r"[^\d.]", "", golden)) or 1.0
            return r.choice(
                (
                    f"{amount + 0.01:.2f}",  # within the tolerance
                    f"{amount + 0.02:.2f}",  # just outside
                    f"{amount:,.2f}".replace(",", "\u00a0"),  # NBSP thousands separator
                    f"{amount / 10:.2f}",  # dropped digit
                    f"{amount:.2f}".replace(".", ","),  # decimal comma
                    _money(amount, r),  # another format, same amount
                )
            )
        if name == "tax_rate":
            return r.choice(("19.0", "0.19", "19%", "20", "7", golden + " "))
        if name == "quantity":
            return r.choice((golden + ".0", str(int(golden) + 1) if golden.isdigit() else "1", "l"))
        day: date = doc["_" + name]
        if name == "invoice_date":
            return r.choice(
                (
                    day.isoformat(),  # another format, same date (matches via ISO fallback)
                    day.strftime("%m/%d/%Y"),  # US order
                    (day + timedelta(days=1)).strftime("%d/%m/%Y"),
                    day.strftime("%d.%m.%Y"),
                )
            )
        return r.choice(
            (
                f"{day.isoformat()}T00:00:00",
                f"{day.isoformat()}T00:00:00Z",
                day.strftime("%Y%m%d"),
                (day + timedelta(days=r.choice((-1, 1, 30)))).isoformat(),
                day.strftime("%d/%m/%Y"),
            )
        )

    def document(self) -> dict[str, Any]:
        r = self.rng
        day = date(2015, 1, 1) + timedelta(days=r.randrange(3950))
        due = day + timedelta(days=r.choice((0, 14, 30, 30, 60, 90)))
        return {
            "invoice_number": f"INV-{r.randint(0, 999999):06d}",
            "vendor_name": r.choice(self.vendors),
            "vendor_address": r.choice(self.addresses),
            "currency": r.choice(_CURRENCIES),
            "payment_terms": r.choice(_TERMS),
            "tax_rate": r.choice(_TAX_RATES),
            "invoice_date": day.strftime("%d/%m/%Y"),
            "_invoice_date": day,
            "due_date": due.isoformat(),
            "_due_date": due,
        }


# Golden nulls per field (the rules for required fields then flag them), and wrong predictions.
_NULL_RATE = {
    "invoice_number": 0.002,
    "vendor_name": 0.001,
    "vendor_address": 0.03,
    "currency": 0.002,
    "payment_terms": 0.08,
    "total_amount": 0.002,
    "tax_rate": 0.02,
    "quantity": 0.01,
    "invoice_date": 0.002,
    "due_date": 0.10,
}
_WRONG_RATE = {
    "invoice_number": 0.05,
    "vendor_name": 0.15,
    "vendor_address": 0.20,
    "currency": 0.05,
    "payment_terms": 0.10,
    "total_amount": 0.12,
    "tax_rate": 0.08,
    "quantity": 0.06,
    "invoice_date": 0.10,
    "due_date": 0.12,
}


def generate(rows: int, seed: int, folder: Path) -> tuple[Path, Path]:
    """Write ``config.json`` and ``dataset.csv`` into ``folder``; return their paths."""
    rng = random.Random(seed)
    gen = _Gen(rng)
    config_path = folder / "config.json"
    config_path.write_text(json.dumps(make_config(rows), indent=2), encoding="utf-8")
    header = ["sample_id", "document_id", "scenario", "layout"]
    for name in FIELD_NAMES:
        header += [f"{name}_golden", f"{name}_predicted"]
    dataset_path = folder / "dataset.csv"
    with dataset_path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        doc: dict[str, Any] = {}
        doc_no, left_in_doc = 0, 0
        for i in range(rows):
            if left_in_doc == 0:
                doc_no += 1
                left_in_doc = rng.choice((1, 1, 2, 3, 3, 4, 5, 5))
                doc = gen.document()
                scenario = rng.choices(
                    [s for s, _ in _SCENARIOS] + [_SCENARIOS_TAIL],
                    [w for _, w in _SCENARIOS] + [1 - sum(w for _, w in _SCENARIOS)],
                )[0]
                layout = "multi_page" if rng.random() < 0.2 else "single_page"
            left_in_doc -= 1
            sample_id = f"S{i:07d}" if i < 10 or rng.random() > 0.0005 else f"S{i // 2:07d}"
            out = [sample_id, f"DOC-{doc_no:06d}", scenario, layout]
            hard = _DIFFICULTY[scenario]
            for name in FIELD_NAMES:
                g = gen.golden(name, doc)
                if gen.chance(_NULL_RATE[name]):
                    g = rng.choice(("", "", " "))  # blank or whitespace-only: null once loaded
                elif gen.chance(0.005):
                    g = gen.invalid(name, g)
                elif gen.chance(0.01) and name in ("currency", "vendor_name", "invoice_number"):
                    g = _case_space_variant(rng, g)
                p = g
                if not g.strip():
                    # The model invents a value now and then where there is none.
                    p = gen.golden(name, doc) if gen.chance(0.3) else ""
                elif gen.chance(_WRONG_RATE[name] * hard):
                    p = "" if gen.chance(0.2) else gen.wrong(name, g, doc)
                out += [g, p]
            writer.writerow(out)
    return config_path, dataset_path


# ---------------------------------------------------------------------------------------------
# Naive baseline: csv.DictReader and a Python loop per row and per field
# ---------------------------------------------------------------------------------------------

_NUMERIC_NOISE = re.compile(r"[\s,$€£¥]")
_SPACES = re.compile(r"\s+")
_DECIMALS = re.compile(r"\.(\d*)$")
# ISO 8601 calendar dates (extended or basic), optionally with a time part.
_ISO_DATE = re.compile(r"(?:\d{4}-\d{2}-\d{2}|\d{8})(?:[T ].+)?")


def naive_load(path: Path) -> list[Row]:
    """Rows as dicts; blank cells become None, as the real loader does."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        reader.fieldnames = [f.strip() for f in reader.fieldnames or []]
        return [{k: (v if v.strip() else None) for k, v in row.items()} for row in reader]


def naive_prep(value: str | None, cfg: FieldConfig) -> str | None:
    if value is None:
        return None
    prep = cfg.preprocessing
    if prep.strip_whitespace:
        value = value.strip()
    if prep.normalize_case:
        value = value.casefold()
    if prep.normalize_format:
        if cfg.type == "numeric":
            value = _NUMERIC_NOISE.sub("", value)
        else:
            value = _SPACES.sub(" ", value).strip()
    return value or None


def naive_number(text: str) -> float | None:
    try:
        number = float(text.strip())
    except ValueError:
        return None
    return None if math.isnan(number) else number


def naive_iso(text: str) -> datetime | None:
    text = text.strip()
    if not _ISO_DATE.fullmatch(text):
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is not None:  # compared in UTC, as naive times
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when


def naive_formatted(text: str, fmt: str) -> datetime | None:
    try:
        return datetime.strptime(text, fmt)
    except ValueError:
        return None


def naive_date(text: str, fmt: str | None) -> datetime | None:
    when = naive_formatted(text.strip(), fmt) if fmt is not None else None
    return when if when is not None else naive_iso(text)


def naive_levenshtein(a: str, b: str) -> int:
    """The textbook two-row dynamic programme."""
    if a == b:
        return 0
    if not a or not b:
        return len(a) or len(b)
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def naive_match(g: str, p: str, cfg: FieldConfig) -> bool:
    if cfg.strategy == "ExactStringMatch":
        return g == p
    if cfg.strategy == "FuzzyStringMatch":
        similarity = 1.0 - naive_levenshtein(g, p) / max(len(g), len(p), 1)
        return similarity >= cfg.threshold
    if cfg.strategy == "NumericMatch":
        a, b = naive_number(g), naive_number(p)
        return a is not None and b is not None and abs(a - b) <= cfg.tolerance + 1e-9
    fmt = cfg.validation_rules.date_format
    da, db = naive_date(g, fmt), naive_date(p, fmt)
    return da is not None and db is not None and da == db


def naive_field_issues(row: Row, line: int, name: str, cfg: FieldConfig) -> list[IssueKey]:
    rules = cfg.validation_rules
    raw = row[f"{name}_golden"]
    text = naive_prep(raw, cfg)
    out: list[IssueKey] = []

    def add(rule: str) -> None:
        out.append((FIELD_CHECK, name, line, rule, raw))

    if text is None:
        if not rules.allow_null:
            add("allow_null")
        return out
    # With normalize_case the rules compare case-insensitively too.
    fold = cfg.preprocessing.normalize_case
    allowed = rules.allowed_values
    if allowed is not None and text not in ([v.casefold() for v in allowed] if fold else allowed):
        add("allowed_values")
    if cfg.type == "string":
        if rules.min_length is not None and len(text) < rules.min_length:
            add("min_length")
        if rules.max_length is not None and len(text) > rules.max_length:
            add("max_length")
        if rules.pattern is not None and not re.fullmatch(
            rules.pattern, text, re.IGNORECASE if fold else 0
        ):
            add("pattern")
    elif cfg.type == "numeric":
        number = naive_number(text)
        if number is None:
            add("type")
            return out
        if rules.min_value is not None and number < rules.min_value:
            add("min_value")
        if rules.max_value is not None and number > rules.max_value:
            add("max_value")
        if rules.decimal_places is not None:
            found = _DECIMALS.search(text)
            if found and len(found.group(1)) > rules.decimal_places:
                add("decimal_places")
    else:
        if rules.date_format is not None:
            when = naive_formatted(text, rules.date_format)
            if when is None:
                add("date_format")
        else:
            when = naive_iso(text)
            if when is None:
                add("type")
        if when is not None:
            if rules.min_date is not None and when.date() < rules.min_date:
                add("min_date")
            if rules.max_date is not None and when.date() > rules.max_date:
                add("max_date")
    return out


def naive_quality(rows: list[Row], config: EvaluationConfig) -> list[IssueKey]:
    issues: list[IssueKey] = []
    checks = config.dataset_checks
    seen: set[str] = set()
    documents: set[str] = set()
    counts: dict[str, Counter[str]] = {c: Counter() for c in config.scenario_columns}
    missing: Counter[str] = Counter()
    for line, row in enumerate(rows, 2):
        for name, cfg in config.fields.items():
            issues += naive_field_issues(row, line, name, cfg)
            if row[f"{name}_golden"] is None:
                missing[name] += 1
        sample_id = row["sample_id"] or ""
        if sample_id in seen:
            issues.append(("unique_sample_id", None, line, "unique_sample_id", sample_id))
        seen.add(sample_id)
        if row.get("document_id"):
            documents.add(row["document_id"] or "")
        for column, counter in counts.items():
            if row[column] is not None:
                counter[row[column] or ""] += 1

    n = len(rows)
    if (size := checks.sample_size) is not None:
        if size.min is not None and n < size.min:
            issues.append(("sample_size", None, None, "min", n))
        if size.max is not None and n > size.max:
            issues.append(("sample_size", None, None, "max", n))
    if (docs := checks.distinct_documents) is not None and len(documents) < docs.min:
        issues.append(("distinct_documents", None, None, "min", len(documents)))
    for sc in checks.samples_per_scenario:
        needed = {value: sc.min for value in counts[sc.column]} | sc.per_value
        for value, minimum in needed.items():
            if counts[sc.column][value] < minimum:
                issues.append(("samples_per_scenario", None, None, "min", value))
    for ci in checks.class_imbalance:
        sizes = counts[ci.column].values()
        if len(sizes) >= 2 and max(sizes) / min(sizes) > ci.max_ratio:
            issues.append(
                ("class_imbalance", None, None, "max_ratio", round(max(sizes) / min(sizes), 6))
            )
    if (mp := checks.missing_percentage) is not None and n:
        for name in config.fields:
            pct = missing[name] / n * 100
            critical = name in mp.critical_fields
            if pct > (mp.critical_max_percent if critical else mp.max_percent):
                rule = "critical" if critical else "max"
                issues.append(("missing_percentage", name, None, rule, round(pct, 3)))
    return issues


def naive_evaluate(rows: list[Row], config: EvaluationConfig) -> dict[str, tuple[int, ...]]:
    counts = {name: [0, 0, 0, 0] for name in config.fields}  # tp, fp, fn, tn
    for row in rows:
        for name, cfg in config.fields.items():
            g = naive_prep(row[f"{name}_golden"], cfg)
            p = naive_prep(row[f"{name}_predicted"], cfg)
            tally = counts[name]
            if g is None and p is None:
                tally[3] += 1
            elif g is not None and p is not None and naive_match(g, p, cfg):
                tally[0] += 1
            else:
                tally[1] += p is not None
                tally[2] += g is not None
    return {name: tuple(c) for name, c in counts.items()}


# ---------------------------------------------------------------------------------------------
# Measurement
# ---------------------------------------------------------------------------------------------


class Clock:
    """Wall and CPU seconds per stage and run. The machine is shared, so CPU time (this
    process only) is printed beside wall time: it moves much less with other people's load."""

    def __init__(self) -> None:
        self.runs: list[dict[str, tuple[float, float]]] = []

    def new_run(self) -> None:
        self.runs.append({})

    def __call__(self, stage: str, fn: Callable[[], Any]) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        self.runs[-1][stage] = (time.perf_counter() - wall, time.process_time() - cpu)
        return result

    def median(self, *stages: str) -> tuple[float, float]:
        """Median over runs of the stages' summed (wall, cpu); (nan, nan) if never timed."""
        sums = [
            (sum(run[s][0] for s in stages), sum(run[s][1] for s in stages))
            for run in self.runs
            if all(s in run for s in stages)
        ]
        if not sums:
            return math.nan, math.nan
        return statistics.median(w for w, _ in sums), statistics.median(c for _, c in sums)


def core_issue_keys(report: Any) -> list[IssueKey]:
    keys: list[IssueKey] = []
    for i in report.issues:
        value = round(i.value, 6) if isinstance(i.value, float) else i.value
        keys.append((i.check, i.field, i.row, i.rule, value))
    return keys


def find_workbook_writer() -> Callable[..., Any] | None:
    try:
        module = importlib.import_module("lexi_pipelines.evaluation.workbooks")
    except ImportError:
        return None
    writer = getattr(module, "write_results_workbook", None)
    return writer if callable(writer) else None


def disagreements(ours: Counter[Any], theirs: Counter[Any], limit: int = 8) -> list[str]:
    lines = [
        f"  issue {key}: vectorized {ours[key]}, naive {theirs[key]}"
        for key in sorted(set(ours) | set(theirs), key=repr)
        if ours[key] != theirs[key]
    ]
    return lines[:limit] + ([f"  ... {len(lines) - limit} more"] if len(lines) > limit else [])


def print_findings(config: EvaluationConfig, issues: Counter[IssueKey], result: Any) -> None:
    """Issues per (field, rule) and TP/FP/FN/TN per field, then the dataset-level issues."""
    by_rule = Counter(
        (key[1] or key[0], key[3] if key[0] == FIELD_CHECK else f"{key[0]}.{key[3]}")
        for key in issues.elements()
    )
    print(f"{'field':18} {'strategy':18} {'TP':>7} {'FP':>7} {'FN':>7} {'TN':>7}   issues")
    for name, cfg in config.fields.items():
        m = result.per_field[name]
        found = ", ".join(f"{r} {c}" for (f, r), c in sorted(by_rule.items()) if f == name)
        print(
            f"{name:18} {cfg.strategy:18} {m.tp:>7} {m.fp:>7} {m.fn:>7} {m.tn:>7}   {found or '-'}"
        )
    dataset = ", ".join(
        f"{r} {c}" for (f, r), c in sorted(by_rule.items()) if f not in config.fields
    )
    print(f"dataset-level: {dataset or '-'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="vectorized runs (median)")
    parser.add_argument("--naive-repeat", type=int, default=1, help="naive runs (median)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None, help="keep the generated files here")
    args = parser.parse_args()
    n = args.rows

    with tempfile.TemporaryDirectory(prefix="bench-evaluation-") as tmp:
        folder = args.out or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        config_path, dataset_path = generate(n, args.seed, folder)
        print(
            f"generated {n:,} rows x {len(FIELD_NAMES)} fields "
            f"({dataset_path.stat().st_size / 1e6:.1f} MB CSV, seed {args.seed}) in "
            f"{time.perf_counter() - start:.1f} s: {dataset_path}"
        )
        config = load_config(config_path)
        writer = find_workbook_writer()
        dataset_hash = hashlib.sha256(dataset_path.read_bytes()).hexdigest()

        ours, theirs = Clock(), Clock()
        report: Any = None
        result: Any = None
        for run in range(args.repeat):
            ours.new_run()
            frame = ours("load", lambda: load_dataset(dataset_path, config))
            report = ours("qc", lambda: run_quality_check(frame, config))  # noqa: B023
            result = ours("evaluation", lambda: evaluate(frame, config))  # noqa: B023
            if writer is not None:
                book = functools.partial(
                    writer,
                    folder / f"results-{run}.xlsx",
                    use_case="bench",
                    model="generated",
                    dataset_file=str(dataset_path),
                    dataset_hash=dataset_hash,
                    frame=frame,
                    config=config,
                    result=result,
                    generated_at=datetime.now(UTC),
                )
                ours("workbook", book)

        naive_issues: list[IssueKey] = []
        naive_counts: dict[str, tuple[int, ...]] = {}
        for _ in range(args.naive_repeat):
            theirs.new_run()
            rows = theirs("load", lambda: naive_load(dataset_path))
            naive_issues = theirs("qc", lambda: naive_quality(rows, config))  # noqa: B023
            naive_counts = theirs("evaluation", lambda: naive_evaluate(rows, config))  # noqa: B023

    # Both sides must have found the same things, or the ratio compares different work.
    our_issues = Counter(core_issue_keys(report))
    problems = disagreements(our_issues, Counter(naive_issues)) + [
        f"  counts {name}: vectorized {(m.tp, m.fp, m.fn, m.tn)}, naive {naive_counts[name]}"
        for name, m in result.per_field.items()
        if (m.tp, m.fp, m.fn, m.tn) != naive_counts[name]
    ]
    print()
    print_findings(config, our_issues, result)
    overall = result.overall
    print(
        f"QC: {report.counts} (passed: {report.passed}); overall accuracy "
        f"{overall.accuracy:.4f}, precision {overall.precision:.4f}, recall "
        f"{overall.recall:.4f}, F1 {overall.f1:.4f} -> {result.decision}"
    )
    print(
        f"agree: {'no' if problems else 'yes'} ({sum(our_issues.values()):,} issues, "
        f"TP/FP/FN/TN of {len(config.fields)} fields)"
    )
    if problems:
        print("\n".join(problems))
        sys.exit(1)

    print()
    print(
        f"{'stage':19} {'wall s':>8} {'cpu s':>7} {'rows/s':>9}   {'naive s':>8} {'cpu s':>7} "
        f"{'rows/s':>8}   {'naive/vectorized':>16} {'(cpu)':>6}"
    )
    stages = {
        "load": ("load",),
        "qc": ("qc",),
        "evaluation": ("evaluation",),
        "qc+evaluation": ("qc", "evaluation"),
        "load+qc+evaluation": ("load", "qc", "evaluation"),
    }
    for label, parts in stages.items():
        (w, c), (nw, nc) = ours.median(*parts), theirs.median(*parts)
        print(
            f"{label:19} {w:8.3f} {c:7.3f} {n / w:9,.0f}   {nw:8.2f} {nc:7.2f} {n / nw:8,.0f}"
            f"   {nw / w:15.1f}x {nc / c:5.1f}x"
        )
    if writer is not None:
        w, c = ours.median("workbook")
        print(f"{'workbook (.xlsx)':19} {w:8.3f} {c:7.3f} {n / w:9,.0f}")
    else:
        print("workbook: skipped (no lexi_pipelines.evaluation.workbooks.write_results_workbook)")
    runs = ", ".join(f"{run['qc'][0] + run['evaluation'][0]:.2f}" for run in ours.runs)
    print(f"vectorized QC+evaluation wall s per run: {runs} (median of {args.repeat})")
    (w, _), (nw, _) = ours.median("qc", "evaluation"), theirs.median("qc", "evaluation")
    targets = {"QC+evaluation < 10 s": w < 10, "ratio >= 10x": nw / w >= 10}
    print("targets: " + ", ".join(f"{k}: {'ok' if v else 'MISSED'}" for k, v in targets.items()))


if __name__ == "__main__":
    main()
