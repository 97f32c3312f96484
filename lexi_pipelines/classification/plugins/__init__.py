"""The classification plugin registry: ``registry.create("tokenizer", "unicode", {...})``."""

from lexi_pipelines.classification.plugins.base import (
    KINDS,
    Classifier,
    FeatureExtractor,
    Kind,
    Param,
    PluginError,
    PluginSpec,
    Registry,
    Tokenizer,
    tokenize_all,
)
from lexi_pipelines.classification.plugins.classifiers import CLASSIFIERS
from lexi_pipelines.classification.plugins.features import FEATURES
from lexi_pipelines.classification.plugins.tokenizers import TOKENIZERS


def default_registry() -> Registry:
    """A fresh registry holding every built-in plugin (available or not)."""
    fresh = Registry()
    for spec in (*TOKENIZERS, *FEATURES, *CLASSIFIERS):
        fresh.register(spec)
    return fresh


registry = default_registry()

__all__ = [
    "KINDS",
    "Classifier",
    "FeatureExtractor",
    "Kind",
    "Param",
    "PluginError",
    "PluginSpec",
    "Registry",
    "Tokenizer",
    "default_registry",
    "registry",
    "tokenize_all",
]
