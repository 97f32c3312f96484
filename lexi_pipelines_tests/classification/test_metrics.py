"""Evaluation metrics on a hand-computed example."""

from __future__ import annotations

import json

import pytest

from lexi_pipelines.classification.metrics import evaluate


def test_hand_computed_example() -> None:
    # true:  a a a b b c ; pred: a a b b c c
    report = evaluate(list("aaabbc"), list("aabbcc"), ["a", "b", "c"])
    assert report.accuracy == pytest.approx(4 / 6)
    assert report.confusion == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    a, b, c = report.per_class
    # a: P 2/2, R 2/3 -> F1 0.8 ; b: P 1/2, R 1/2 -> 0.5 ; c: P 1/2, R 1/1 -> 2/3
    assert (a.precision, a.recall, a.f1, a.support) == pytest.approx((1.0, 2 / 3, 0.8, 3))
    assert (b.precision, b.recall, b.f1, b.support) == pytest.approx((0.5, 0.5, 0.5, 2))
    assert (c.precision, c.recall, c.f1, c.support) == pytest.approx((0.5, 1.0, 2 / 3, 1))
    assert report.macro_f1 == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    # Majority baseline: always "a" -> accuracy 3/6; F1(a) = 2*0.5*1/1.5 = 2/3, others 0.
    assert report.majority_class == "a"
    assert report.majority_accuracy == pytest.approx(0.5)
    assert report.majority_macro_f1 == pytest.approx((2 / 3) / 3)
    assert report.beats_majority
    data = json.loads(json.dumps(report.to_dict()))
    assert data["per_class"][0] == {
        "label": "a", "precision": 1.0, "recall": pytest.approx(2 / 3), "f1": pytest.approx(0.8),
        "support": 3,
    }  # fmt: skip


def test_class_without_support_counts_in_macro_f1() -> None:
    report = evaluate(["x", "x"], ["x", "x"], ["x", "y"])
    assert report.accuracy == 1.0
    assert report.per_class[1].support == 0 and report.per_class[1].f1 == 0.0
    assert report.macro_f1 == pytest.approx(0.5)


def test_default_class_order_and_errors() -> None:
    assert evaluate(["b", "a"], ["a", "a"]).classes == ["a", "b"]
    with pytest.raises(ValueError, match="not in the class list"):
        evaluate(["a"], ["z"], ["a"])
    with pytest.raises(ValueError, match="predictions"):
        evaluate(["a"], [], ["a"])
    with pytest.raises(ValueError, match="no labels"):
        evaluate([], [], ["a"])
