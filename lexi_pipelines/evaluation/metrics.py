"""Per-field and overall extraction metrics, and the decision against the thresholds.

Outcome of one (golden, predicted) pair, "match" meaning equal under the field's strategy:

* TP: both present and they match;
* FP: predicted present but not a TP (a wrong value, or a value where golden is null);
* FN: golden present but not a TP (missed, or wrong - a wrong value is both FP and FN);
* TN: both null.

accuracy = (TP + TN) / rows; precision = TP / (TP + FP); recall = TP / (TP + FN); F1 is their
harmonic mean. A zero denominator gives 0.0, except that a field with only TNs scores 1.0
throughout (there was nothing to find and nothing was invented). Overall figures are micro
averages: the counts of all fields are summed before dividing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from lexi_pipelines.evaluation.config import EvaluationConfig, MetricMinimums
from lexi_pipelines.evaluation.dataset import golden, predicted
from lexi_pipelines.evaluation.matching import match_preprocessed, preprocess

Decision = Literal["autonomous", "human_in_loop", "not_ready"]


@dataclass(frozen=True)
class Metrics:
    rows: int
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def _only_tn(self) -> bool:
        return self.tp + self.fp + self.fn == 0

    @property
    def accuracy(self) -> float:
        return (self.tp + self.tn) / self.rows if self.rows else 0.0

    @property
    def precision(self) -> float:
        if self._only_tn:
            return 1.0
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        if self._only_tn:
            return 1.0
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __add__(self, other: Metrics) -> Metrics:
        return Metrics(
            self.rows + other.rows,
            self.tp + other.tp,
            self.fp + other.fp,
            self.fn + other.fn,
            self.tn + other.tn,
        )

    def as_dict(self) -> dict[str, float]:
        return {
            "accuracy": self.accuracy,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
        }


@dataclass(frozen=True)
class EvaluationResult:
    per_field: dict[str, Metrics]
    overall: Metrics
    decision: Decision
    # Per-row match flags per field, for the per-field sheets of the results workbook.
    matches: pd.DataFrame


def field_metrics(g: pd.Series, p: pd.Series, matched: np.ndarray) -> Metrics:
    g_present = g.notna().to_numpy(dtype=bool)
    p_present = p.notna().to_numpy(dtype=bool)
    tp = matched & g_present & p_present
    return Metrics(
        rows=len(g),
        tp=int(tp.sum()),
        fp=int((p_present & ~tp).sum()),
        fn=int((g_present & ~tp).sum()),
        tn=int((~g_present & ~p_present).sum()),
    )


def meets(metrics: Metrics, minimums: MetricMinimums) -> bool:
    values = metrics.as_dict()
    return all(
        values[name] >= minimum
        for name, minimum in minimums.model_dump().items()
        if minimum is not None
    )


def decide(overall: Metrics, config: EvaluationConfig) -> Decision:
    if meets(overall, config.thresholds.autonomous):
        return "autonomous"
    if meets(overall, config.thresholds.human_in_loop):
        return "human_in_loop"
    return "not_ready"


def evaluate(frame: pd.DataFrame, config: EvaluationConfig) -> EvaluationResult:
    per_field: dict[str, Metrics] = {}
    flags: dict[str, np.ndarray] = {}
    for name, cfg in config.fields.items():
        # Nullness after preprocessing, so a whitespace-only prediction counts as missing.
        g = preprocess(frame[golden(name)], cfg)
        p = preprocess(frame[predicted(name)], cfg)
        flags[name] = match_preprocessed(g, p, cfg)
        per_field[name] = field_metrics(g, p, flags[name])
    overall = sum(per_field.values(), Metrics(0, 0, 0, 0, 0))
    return EvaluationResult(per_field, overall, decide(overall, config), pd.DataFrame(flags))
