from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from lexi_pipelines.evaluation.config import parse_config
from lexi_pipelines.evaluation.matching import levenshtein_similarity, match
from lexi_pipelines.evaluation.metrics import Metrics, evaluate


def field(raw: dict[str, Any]) -> Any:
    th: dict[str, Any] = {"autonomous": {}, "human_in_loop": {}}
    return parse_config({"fields": {"f": raw}, "thresholds": th}, "c").fields["f"]


def s(*values: Any) -> pd.Series:
    return pd.Series(values, dtype="string")


def test_exact_string_with_preprocessing() -> None:
    plain = field({"type": "string", "strategy": "ExactStringMatch"})
    assert match(s("Acme", "Acme", None), s("acme ", "Acme", None), plain).tolist() == [
        False,
        True,
        False,
    ]
    prep = field(
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
    assert match(s("Acme  Corp"), s(" acme corp "), prep).tolist() == [True]


def test_levenshtein_similarity_values() -> None:
    sim = levenshtein_similarity(
        s("kitten", "flaw", "", "same", "Straße"), s("sitting", "lawn", "abc", "same", "strasse")
    )
    assert np.allclose(sim, [1 - 3 / 7, 0.5, 0.0, 1.0, 1 - 3 / 7])


def test_fuzzy_threshold() -> None:
    f = field({"type": "string", "strategy": "FuzzyStringMatch", "threshold": 0.8})
    assert match(
        s("Acme Corp", "Acme Corp", "Acme"), s("Acme Corq", "Acme Corporation", None), f
    ).tolist() == [True, False, False]


def test_numeric_tolerance() -> None:
    f = field(
        {
            "type": "numeric",
            "strategy": "NumericMatch",
            "tolerance": 0.01,
            "preprocessing": {"normalize_format": True},
        }
    )
    assert match(
        s("100.00", "100", "0.3", "x", "1,000"), s("100.01", "100.02", "0.30", "1", "1000"), f
    ).tolist() == [True, False, True, False, True]
    exact = field({"type": "numeric", "strategy": "NumericMatch"})
    assert match(s("0.3"), s(str(0.1 + 0.2)), exact).tolist() == [True]


def test_datetime_after_format_normalization() -> None:
    f = field(
        {
            "type": "date",
            "strategy": "ExactDateTimeMatch",
            "validation_rules": {"date_format": "%d/%m/%Y"},
        }
    )
    assert match(
        s("31/01/2024", "31/01/2024", "31/01/2024"), s("2024-01-31", "31/01/2024", "bad"), f
    ).tolist() == [True, True, False]


def test_metric_definitions() -> None:
    m = Metrics(rows=10, tp=6, fp=2, fn=3, tn=1)
    assert m.accuracy == pytest.approx(0.7)
    assert m.precision == pytest.approx(0.75)
    assert m.recall == pytest.approx(6 / 9)
    assert m.f1 == pytest.approx(2 * 0.75 * (6 / 9) / (0.75 + 6 / 9))
    assert Metrics(3, 0, 0, 0, 3).as_dict() == {"accuracy": 1, "precision": 1, "recall": 1, "f1": 1}
    assert Metrics(2, 0, 0, 2, 0).precision == 0.0


def config(thresholds: dict[str, Any]) -> Any:
    return parse_config(
        {
            "fields": {
                "v": {"type": "string", "strategy": "ExactStringMatch"},
                "n": {"type": "numeric", "strategy": "NumericMatch", "tolerance": 0.5},
            },
            "thresholds": thresholds,
        },
        "c",
    )


DF = pd.DataFrame(
    {
        # right, wrong, missed, hallucinated, both null
        "v_golden": ["a", "a", "a", None, None],
        "v_predicted": ["a", "b", None, "x", None],
        "n_golden": ["1", "2", "3", "4", "5"],
        "n_predicted": ["1.2", "2", "3", "4", "5"],
    }
).astype("string")


def test_evaluate_per_field_overall_and_decision() -> None:
    cfg = config({"autonomous": {"accuracy": 0.95}, "human_in_loop": {"f1": 0.7}})
    res = evaluate(DF, cfg)
    assert res.per_field["v"] == Metrics(rows=5, tp=1, fp=2, fn=2, tn=1)
    assert res.per_field["n"] == Metrics(rows=5, tp=5, fp=0, fn=0, tn=0)
    assert res.overall == Metrics(rows=10, tp=6, fp=2, fn=2, tn=1)
    assert res.overall.accuracy == pytest.approx(0.7)
    assert res.decision == "human_in_loop"
    assert res.matches["v"].tolist() == [True, False, False, False, False]
    assert (
        evaluate(DF, config({"autonomous": {"recall": 0.7}, "human_in_loop": {}})).decision
        == "autonomous"
    )
    assert (
        evaluate(
            DF, config({"autonomous": {"precision": 0.9}, "human_in_loop": {"accuracy": 0.9}})
        ).decision
        == "not_ready"
    )
