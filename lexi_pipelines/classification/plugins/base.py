"""Plugin registry: named tokenizers, feature extractors and classifiers with typed parameters.

Everything is resolved and checked up front (``Registry.resolve``) so a bad name, a misspelled
parameter or a missing optional package fails before any data is read or model trained.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

Kind = Literal["tokenizer", "features", "classifier"]
KINDS: tuple[Kind, ...] = ("tokenizer", "features", "classifier")
# What a feature extractor or classifier consumes: token lists or the raw texts.
InputKind = Literal["tokens", "text"]


class PluginError(ValueError):
    """A plugin name, parameter or availability problem, raised before any work starts."""


@runtime_checkable
class Tokenizer(Protocol):
    def tokenize(self, text: str) -> list[str]: ...


@runtime_checkable
class FeatureExtractor(Protocol):
    input: InputKind

    def fit(self, docs: Sequence[Any]) -> FeatureExtractor: ...

    def transform(self, docs: Sequence[Any]) -> Any: ...


@runtime_checkable
class Classifier(Protocol):
    classes_: npt.NDArray[Any]

    def fit(self, X: Any, y: Sequence[str]) -> Classifier: ...

    def predict_proba(self, X: Any) -> npt.NDArray[np.float64]: ...


@dataclass(frozen=True)
class Param:
    name: str
    type: type | tuple[type, ...]
    default: Any
    description: str
    choices: tuple[Any, ...] | None = None
    # Extra validation: returns an error message or None.
    check: Callable[[Any], str | None] | None = None
    nullable: bool = False

    def type_name(self) -> str:
        types = self.type if isinstance(self.type, tuple) else (self.type,)
        names = " | ".join(t.__name__ for t in types)
        return f"{names} | None" if self.nullable else names

    def validate(self, value: Any) -> Any:
        if value is None and self.nullable:
            return None
        types = self.type if isinstance(self.type, tuple) else (self.type,)
        # bool is an int subclass: never let True pass as a number, nor 1 as a flag.
        if isinstance(value, bool) and bool not in types:
            raise PluginError(f"parameter {self.name!r} must be {self.type_name()}, got {value!r}")
        if float in types and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, types):
            raise PluginError(f"parameter {self.name!r} must be {self.type_name()}, got {value!r}")
        if self.choices is not None and value not in self.choices:
            raise PluginError(
                f"parameter {self.name!r} must be one of {list(self.choices)}, got {value!r}"
            )
        if self.check is not None and (problem := self.check(value)):
            raise PluginError(f"parameter {self.name!r}: {problem}")
        return value


def positive(value: Any) -> str | None:
    return None if value > 0 else "must be > 0"


def non_negative(value: Any) -> str | None:
    return None if value >= 0 else "must be >= 0"


def fraction(value: Any) -> str | None:
    return None if 0 < value <= 1 else "must be in (0, 1]"


@dataclass(frozen=True)
class PluginSpec:
    kind: Kind
    name: str
    description: str
    factory: Callable[..., Any]
    params: tuple[Param, ...] = ()
    # (import name, pip distribution) of each optional package the plugin needs.
    requires: tuple[tuple[str, str], ...] = ()
    extra: str | None = None  # the lexi-pipelines extra that installs ``requires``
    input: InputKind = "tokens"

    def missing(self) -> list[str]:
        return [dist for module, dist in self.requires if not _importable(module)]

    def is_available(self) -> bool:
        return not self.missing()

    @property
    def install_hint(self) -> str:
        if self.extra:
            return f"pip install 'lexi-pipelines[{self.extra}]'"
        return "pip install " + " ".join(dist for _, dist in self.requires)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def resolve_params(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """Defaults overlaid with ``params``, each checked; unknown names are an error."""
        given = dict(params or {})
        accepted = {p.name: p for p in self.params}
        unknown = sorted(set(given) - set(accepted))
        if unknown:
            listing = ", ".join(f"{p.name}: {p.type_name()} = {p.default!r}" for p in self.params)
            raise PluginError(
                f"unknown parameter(s) {unknown} for {self.kind} {self.name!r}; "
                f"accepted: {listing or 'none'}"
            )
        resolved = self.defaults()
        for name, value in given.items():
            resolved[name] = accepted[name].validate(value)
        return resolved

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "description": self.description,
            "input": self.input,
            "available": self.is_available(),
            "missing": self.missing(),
            "install_hint": self.install_hint if self.requires else None,
            "params": [
                {
                    "name": p.name,
                    "type": p.type_name(),
                    "default": p.default,
                    "description": p.description,
                    **({"choices": list(p.choices)} if p.choices else {}),
                }
                for p in self.params
            ],
        }


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


@dataclass
class Registry:
    _specs: dict[Kind, dict[str, PluginSpec]] = field(
        default_factory=lambda: {kind: {} for kind in KINDS}
    )

    def register(self, spec: PluginSpec) -> PluginSpec:
        if spec.name in self._specs[spec.kind]:
            raise PluginError(f"{spec.kind} {spec.name!r} is already registered")
        self._specs[spec.kind][spec.name] = spec
        return spec

    def names(self, kind: Kind) -> list[str]:
        return sorted(self._specs[kind])

    def specs(self, kind: Kind) -> list[PluginSpec]:
        return [self._specs[kind][name] for name in self.names(kind)]

    def available(self, kind: Kind) -> list[str]:
        return [spec.name for spec in self.specs(kind) if spec.is_available()]

    def get(self, kind: Kind, name: str) -> PluginSpec:
        if kind not in self._specs:
            raise PluginError(f"unknown plugin kind {kind!r}; kinds: {list(KINDS)}")
        spec = self._specs[kind].get(name)
        if spec is None:
            raise PluginError(f"unknown {kind} {name!r}; registered: {self.names(kind)}")
        return spec

    def resolve(
        self, kind: Kind, name: str, params: Mapping[str, Any] | None = None
    ) -> tuple[PluginSpec, dict[str, Any]]:
        """The spec and its full parameters; fails on a bad name/parameter or missing package."""
        spec = self.get(kind, name)
        resolved = spec.resolve_params(params)
        if missing := spec.missing():
            raise PluginError(
                f"{kind} {name!r} needs {', '.join(missing)}, which is not installed; "
                f"install it with: {spec.install_hint}"
            )
        return spec, resolved

    def create(self, kind: Kind, name: str, params: Mapping[str, Any] | None = None) -> Any:
        spec, resolved = self.resolve(kind, name, params)
        return spec.factory(**resolved)

    def describe(self) -> dict[str, list[dict[str, Any]]]:
        return {kind: [spec.describe() for spec in self.specs(kind)] for kind in KINDS}


def tokenize_all(tokenizer: Tokenizer, texts: Iterable[str]) -> list[list[str]]:
    """Tokens of every text, through the tokenizer's batch method when it has one."""
    batch = getattr(tokenizer, "tokenize_many", None)
    if callable(batch):
        return list(batch(list(texts)))
    return [tokenizer.tokenize(text) for text in texts]
