"""Tokenizer -> features -> classifier, configured by plugin names and checked up front.

The default (``unicode`` + ``tfidf`` + ``svm``, each with its default parameters) was chosen
by measurement on the 20 Newsgroups train split; see benchmarks/bench_classification.py.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from lexi_pipelines.classification.plugins import (
    PluginError,
    Registry,
    tokenize_all,
)
from lexi_pipelines.classification.plugins import (
    registry as default_registry,
)

CONFIG_KEYS = (
    "tokenizer",
    "tokenizer_params",
    "features",
    "features_params",
    "classifier",
    "classifier_params",
)


@dataclass(frozen=True)
class ResolvedConfig:
    """Plugin names with every parameter filled in, and which stages actually run."""

    tokenizer: str
    tokenizer_params: dict[str, Any]
    features: str
    features_params: dict[str, Any]
    classifier: str
    classifier_params: dict[str, Any]
    uses_tokenizer: bool
    uses_features: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "tokenizer": {
                "name": self.tokenizer,
                "params": self.tokenizer_params,
                "used": self.uses_tokenizer,
            },
            "features": {
                "name": self.features,
                "params": self.features_params,
                "used": self.uses_features,
            },
            "classifier": {"name": self.classifier, "params": self.classifier_params},
        }


@dataclass(frozen=True)
class PipelineConfig:
    tokenizer: str = "unicode"
    tokenizer_params: Mapping[str, Any] = field(default_factory=dict)
    features: str = "tfidf"
    features_params: Mapping[str, Any] = field(default_factory=dict)
    classifier: str = "svm"
    classifier_params: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PipelineConfig:
        unknown = sorted(set(data) - set(CONFIG_KEYS))
        if unknown:
            raise PluginError(
                f"unknown pipeline setting(s) {unknown}; accepted: {list(CONFIG_KEYS)}"
            )
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key.endswith("_params"):
                if not isinstance(value, Mapping):
                    raise PluginError(f"{key} must be a mapping of parameters, got {value!r}")
                values[key] = dict(value)
            elif not isinstance(value, str):
                raise PluginError(f"{key} must be a plugin name, got {value!r}")
            else:
                values[key] = value
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return {
            k: (dict(getattr(self, k)) if k.endswith("_params") else getattr(self, k))
            for k in CONFIG_KEYS
        }

    def validate(self, registry: Registry | None = None) -> ResolvedConfig:
        """Every name, parameter and optional package checked; raises ``PluginError``."""
        reg = registry or default_registry
        tok_spec, tok_params = reg.resolve("tokenizer", self.tokenizer, self.tokenizer_params)
        feat_spec, feat_params = reg.resolve("features", self.features, self.features_params)
        clf_spec, clf_params = reg.resolve("classifier", self.classifier, self.classifier_params)
        uses_features = clf_spec.input == "tokens"
        return ResolvedConfig(
            tokenizer=tok_spec.name,
            tokenizer_params=tok_params,
            features=feat_spec.name,
            features_params=feat_params,
            classifier=clf_spec.name,
            classifier_params=clf_params,
            uses_tokenizer=uses_features and feat_spec.input == "tokens",
            uses_features=uses_features,
        )


class TextClassifier:
    """A fitted (or fittable) text pipeline; picklable as a whole."""

    def __init__(self, config: PipelineConfig, resolved: ResolvedConfig, registry: Registry):
        self.config = config
        self.resolved = resolved
        # Plugin instances are built now so construction errors surface before fit's work.
        self.tokenizer: Any = (
            registry.create("tokenizer", resolved.tokenizer, resolved.tokenizer_params)
            if resolved.uses_tokenizer
            else None
        )
        self.features: Any = (
            registry.create("features", resolved.features, resolved.features_params)
            if resolved.uses_features
            else None
        )
        self.classifier: Any = registry.create(
            "classifier", resolved.classifier, resolved.classifier_params
        )
        self.classes: list[str] = []
        self.fit_seconds: float | None = None
        self.n_train = 0

    @property
    def is_fitted(self) -> bool:
        return bool(self.classes)

    def _inputs(self, texts: Sequence[str]) -> Any:
        if self.tokenizer is not None:
            return tokenize_all(self.tokenizer, texts)
        return list(texts)

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> TextClassifier:
        if len(texts) != len(labels):
            raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
        distinct = sorted({str(label) for label in labels})
        if len(distinct) < 2:
            raise ValueError(f"need at least two classes to train, got {distinct}")
        y = [str(label) for label in labels]
        start = time.perf_counter()
        if self.tokenizer is not None and callable(getattr(self.tokenizer, "fit", None)):
            self.tokenizer.fit(texts)  # e.g. sentencepiece learns its vocabulary here
        docs = self._inputs(texts)
        if self.features is not None:
            fit_transform = getattr(self.features, "fit_transform", None)
            X = (
                fit_transform(docs)
                if callable(fit_transform)
                else self.features.fit(docs).transform(docs)
            )
        else:
            X = docs
        self.classifier.fit(X, y)
        self.fit_seconds = time.perf_counter() - start
        self.classes = [str(c) for c in self.classifier.classes_]
        self.n_train = len(y)
        return self

    def predict_proba(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """Rows of class probabilities (columns in ``classes`` order)."""
        if not self.is_fitted:
            raise RuntimeError("the pipeline is not fitted")
        if len(texts) == 0:
            return np.zeros((0, len(self.classes)))
        docs = self._inputs(texts)
        X = self.features.transform(docs) if self.features is not None else docs
        return np.asarray(self.classifier.predict_proba(X), dtype=np.float64)

    def predict(self, texts: Sequence[str]) -> tuple[list[str], list[float]]:
        """The most likely class of each text and its confidence in [0, 1]."""
        proba = self.predict_proba(texts)
        best = proba.argmax(axis=1) if len(proba) else np.zeros(0, dtype=np.intp)
        labels = [self.classes[int(i)] for i in best]
        confidences = proba[np.arange(len(best)), best].tolist() if len(best) else []
        return labels, [float(c) for c in confidences]

    def describe(self) -> dict[str, Any]:
        return {
            **self.resolved.to_dict(),
            "classes": list(self.classes),
            "n_train": self.n_train,
            "fit_seconds": self.fit_seconds,
        }


def build_pipeline(
    config: PipelineConfig | None = None, *, registry: Registry | None = None
) -> TextClassifier:
    """An unfitted pipeline; raises ``PluginError`` before any work on a bad config."""
    cfg = config or PipelineConfig()
    reg = registry or default_registry
    return TextClassifier(cfg, cfg.validate(reg), reg)
