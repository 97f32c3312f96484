"""Regression tests for the vectorized matching helpers, each against plain Python."""

from __future__ import annotations

import random
import re
import sys
from typing import Any

import numpy as np
import pandas as pd

from lexi_pipelines.evaluation.config import parse_config
from lexi_pipelines.evaluation.dataset import ROW_COLUMN
from lexi_pipelines.evaluation.matching import (
    WHITESPACE,
    levenshtein_similarity,
    match,
    preprocess,
    to_dates,
)
from lexi_pipelines.evaluation.quality import run_quality_check

TH: dict[str, Any] = {"autonomous": {}, "human_in_loop": {}}


def field(raw: dict[str, Any]) -> Any:
    return parse_config({"fields": {"f": raw}, "thresholds": TH}, "c").fields["f"]


def s(*values: Any) -> pd.Series:
    return pd.Series(values, dtype="string")


def textbook_levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def test_whitespace_is_pythons_backslash_s() -> None:
    # The spelled-out class must stay exactly what ``re`` means by \s on str.
    every_char = "".join(map(chr, range(sys.maxunicode + 1)))
    assert "".join(re.findall(r"\s", every_char)) == WHITESPACE


def test_preprocess_agrees_with_python_string_functions() -> None:
    rng = random.Random(5)
    alphabet = [*WHITESPACE, "a", "Z", "ß", "İ", "Σ", "$", "€", ",", "1", ".", " ", " "]
    raw = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8))) for _ in range(3000)]
    text = field(
        {
            "type": "string",
            "strategy": "ExactStringMatch",
            "preprocessing": {
                "strip_whitespace": True,
                "normalize_case": True,
                "normalize_format": True,
            },
        }
    )
    number = field(
        {"type": "numeric", "strategy": "NumericMatch", "preprocessing": {"normalize_format": True}}
    )
    got_text = preprocess(s(*raw, None), text).tolist()
    got_number = preprocess(s(*raw, None), number).tolist()
    want_text = [re.sub(r"\s+", " ", v.strip().casefold()).strip() or pd.NA for v in raw]
    want_number = [re.sub(r"[\s,$€£¥]", "", v) or pd.NA for v in raw]
    assert got_text == [*want_text, pd.NA]
    assert got_number == [*want_number, pd.NA]


def test_levenshtein_matches_the_textbook_dp() -> None:
    rng = random.Random(11)
    alphabet = "abcé ß\x00日😀"
    left: list[str | None] = [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(1500)
    ]
    right = [
        v
        if rng.random() < 0.2
        else "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        for v in left
    ]
    left += ["kitten", "kitten", "", None]  # repeated pair, empty vs empty, null vs "x"
    right += ["sitting", "sitting", "", "x"]
    got = levenshtein_similarity(s(*left), s(*right))
    want = [
        1.0 - textbook_levenshtein(a or "", b or "") / max(len(a or ""), len(b or ""), 1)
        for a, b in zip(left, right, strict=True)
    ]
    assert np.array_equal(got, np.array(want))


def test_dates_with_an_offset_do_not_break_the_column() -> None:
    # One "Z" among naive values used to make pandas raise for the whole column.
    f = field({"type": "date", "strategy": "ExactDateTimeMatch"})
    golden = s("2024-06-15", "2024-06-15", "2024-06-15", "2024-06-15")
    predicted = s("2024-06-15T00:00:00Z", "2024-06-15T02:00:00+02:00", "2024-06-15T01:00Z", None)
    assert match(golden, predicted, f).tolist() == [True, True, False, False]


def test_iso_fallback_accepts_calendar_dates_only() -> None:
    # pandas' "ISO8601" parser alone reads "2024" as 2024-01-01 and accepts "/" separators.
    dates = to_dates(
        s(
            "2024-06-15",
            "20240615",
            "2024-06-15 10:30",
            "2024",
            "2024-06",
            "2024/06/15",
            "2024-6-5",
        ),
        None,
    )
    assert dates.notna().tolist() == [True, True, True, False, False, False, False]
    f = field({"type": "date", "strategy": "ExactDateTimeMatch"})
    assert match(s("2024-01-01", "2024-06-15"), s("2024", "2024/06/15"), f).tolist() == [
        False,
        False,
    ]

    date_field = {"type": "date", "strategy": "ExactDateTimeMatch"}
    cfg = parse_config({"fields": {"d": date_field}, "thresholds": TH}, "c")
    values = ["2024-06-15", "2024/06/15", "2024", "2024-06-15T00:00:00Z"]
    frame = pd.DataFrame({"sample_id": ["1", "2", "3", "4"], "d_golden": values})
    frame = frame.astype("string").assign(d_predicted=frame["d_golden"])
    frame[ROW_COLUMN] = range(2, 6)
    issues = {(i.row, i.rule) for i in run_quality_check(frame, cfg).issues}
    assert issues == {(3, "type"), (4, "type")}
