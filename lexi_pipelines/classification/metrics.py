"""Evaluation of predicted labels: accuracy, macro-F1, per-class scores, confusion matrix."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class ClassScores:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class EvaluationReport:
    classes: list[str]
    n: int
    accuracy: float
    macro_f1: float
    per_class: list[ClassScores]
    # confusion[i][j]: documents of true class classes[i] predicted as classes[j]
    confusion: list[list[int]]
    majority_class: str
    majority_accuracy: float
    majority_macro_f1: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def beats_majority(self) -> bool:
        return self.macro_f1 > self.majority_macro_f1


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _macro_f1(confusion: list[list[int]]) -> tuple[float, list[tuple[float, float, float, int]]]:
    k = len(confusion)
    rows = []
    for i in range(k):
        tp = confusion[i][i]
        predicted = sum(confusion[r][i] for r in range(k))
        support = sum(confusion[i])
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        rows.append((precision, recall, _f1(precision, recall), support))
    # Macro over every listed class (a class absent from y_true still counts, with F1 0):
    # the class list is the model's, so a skipped class is a real miss.
    return (sum(r[2] for r in rows) / k if k else 0.0), rows


def evaluate(
    y_true: Sequence[str], y_pred: Sequence[str], classes: Sequence[str] | None = None
) -> EvaluationReport:
    """Scores of ``y_pred`` against ``y_true``; ``classes`` fixes the order (default sorted).

    Labels outside ``classes`` are an error. The majority baseline predicts the most frequent
    true class (ties: first in ``classes`` order) for every document.
    """
    if len(y_true) != len(y_pred):
        raise ValueError(f"{len(y_true)} true labels but {len(y_pred)} predictions")
    if not y_true:
        raise ValueError("nothing to evaluate: no labels")
    labels = list(classes) if classes is not None else sorted(set(y_true) | set(y_pred))
    position = {label: i for i, label in enumerate(labels)}
    unknown = sorted((set(y_true) | set(y_pred)) - set(position))
    if unknown:
        raise ValueError(f"labels not in the class list: {unknown}")
    k = len(labels)
    confusion = [[0] * k for _ in range(k)]
    for truth, guess in zip(y_true, y_pred, strict=True):
        confusion[position[truth]][position[guess]] += 1
    n = len(y_true)
    correct = sum(confusion[i][i] for i in range(k))
    macro, rows = _macro_f1(confusion)

    counts = Counter(y_true)
    majority = max(labels, key=lambda label: (counts.get(label, 0), -position[label]))
    baseline = [[0] * k for _ in range(k)]
    for i, label in enumerate(labels):
        baseline[i][position[majority]] = counts.get(label, 0)
    majority_macro, _ = _macro_f1(baseline)

    return EvaluationReport(
        classes=labels,
        n=n,
        accuracy=correct / n,
        macro_f1=macro,
        per_class=[
            ClassScores(label, p, r, f, s) for label, (p, r, f, s) in zip(labels, rows, strict=True)
        ],
        confusion=confusion,
        majority_class=majority,
        majority_accuracy=counts[majority] / n,
        majority_macro_f1=majority_macro,
    )
