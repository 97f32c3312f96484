"""Use-case configuration (``config.json`` / ``config.yaml``) as pydantic v2 models.

Example (YAML)::

    fields:
      invoice_total:
        type: numeric
        strategy: NumericMatch
        tolerance: 0.01
        validation_rules: {allow_null: false, min_value: 0, decimal_places: 2}
      vendor:
        type: string
        strategy: FuzzyStringMatch
        threshold: 0.85
        preprocessing: {strip_whitespace: true, normalize_case: true}
    scenario_columns: [scenario]
    dataset_checks:
      sample_size: {min: 50, severity: error}
      samples_per_scenario: [{column: scenario, min: 5, per_value: {handwritten: 2}}]
    thresholds:
      autonomous: {accuracy: 0.95, f1: 0.95}
      human_in_loop: {accuracy: 0.8}
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from lexi_pipelines.evaluation.errors import EvaluationInputError

FieldType = Literal["string", "numeric", "date"]
Strategy = Literal["ExactStringMatch", "FuzzyStringMatch", "NumericMatch", "ExactDateTimeMatch"]
Severity = Literal["error", "warning", "info"]

# Which strategies make sense for which field type; anything else is a config error.
_STRATEGIES_BY_TYPE: dict[str, set[str]] = {
    "string": {"ExactStringMatch", "FuzzyStringMatch"},
    "numeric": {"NumericMatch", "ExactStringMatch"},
    "date": {"ExactDateTimeMatch", "ExactStringMatch"},
}
_RULES_BY_TYPE: dict[str, set[str]] = {
    "string": {"min_length", "max_length", "pattern", "allowed_values"},
    "numeric": {"min_value", "max_value", "decimal_places", "allowed_values"},
    "date": {"date_format", "min_date", "max_date"},
}


class _Strict(BaseModel):
    # Unknown keys are almost always typos; reject them so they are not silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Preprocessing(_Strict):
    strip_whitespace: bool = False
    normalize_case: bool = False
    # strings: collapse inner whitespace runs; numerics: drop thousands separators/currency signs
    normalize_format: bool = False


class ValidationRules(_Strict):
    """Field-level rules, applied to the golden column (the data under quality check)."""

    allow_null: bool = True
    min_length: int | None = Field(default=None, ge=0)
    max_length: int | None = Field(default=None, ge=0)
    pattern: str | None = None
    allowed_values: list[str] | None = None
    min_value: float | None = None
    max_value: float | None = None
    decimal_places: int | None = Field(default=None, ge=0)
    date_format: str | None = None
    min_date: date | None = None
    max_date: date | None = None
    severity: Severity = "error"

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from exc
        return value

    @field_validator("allowed_values", mode="before")
    @classmethod
    def _values_as_strings(cls, value: Any) -> Any:
        # Datasets are read as text, so compare allowed values as text too (YAML may give ints).
        if isinstance(value, list):
            return [str(v) for v in value]
        return value


class FieldConfig(_Strict):
    type: FieldType
    strategy: Strategy
    threshold: float = Field(default=0.9, ge=0.0, le=1.0)
    tolerance: float = Field(default=0.0, ge=0.0)
    preprocessing: Preprocessing = Preprocessing()
    validation_rules: ValidationRules = ValidationRules()

    @field_validator("strategy")
    @classmethod
    def _strategy_fits_type(cls, value: str, info: ValidationInfo) -> str:
        ftype = info.data.get("type")
        if ftype is not None and value not in _STRATEGIES_BY_TYPE[ftype]:
            allowed = ", ".join(sorted(_STRATEGIES_BY_TYPE[ftype]))
            raise ValueError(f"{value} does not apply to a {ftype} field (use one of {allowed})")
        return value

    @field_validator("validation_rules")
    @classmethod
    def _rules_fit_type(cls, value: ValidationRules, info: ValidationInfo) -> ValidationRules:
        ftype = info.data.get("type")
        if ftype is None:
            return value
        misplaced = {
            name
            for names in _RULES_BY_TYPE.values()
            for name in names
            if name in value.model_fields_set and name not in _RULES_BY_TYPE[ftype]
        }
        if misplaced:
            raise ValueError(f"rules {sorted(misplaced)} do not apply to a {ftype} field")
        return value


class _Check(_Strict):
    severity: Severity = "error"


class SampleSizeCheck(_Check):
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)


class DistinctDocumentsCheck(_Check):
    min: int = Field(ge=0)


class ScenarioSamplesCheck(_Check):
    column: str
    min: int = Field(default=0, ge=0)
    # Per-value minimums override ``min``; a listed value absent from the data counts as 0.
    per_value: dict[str, int] = {}


class ClassImbalanceCheck(_Check):
    column: str
    max_ratio: float = Field(gt=0)


class MissingPercentageCheck(_Check):
    """Share of null golden values per field; critical fields get their own (stricter) limit."""

    max_percent: float = Field(ge=0, le=100)
    critical_fields: list[str] = []
    critical_max_percent: float = Field(default=0.0, ge=0, le=100)


class DatasetChecks(_Strict):
    sample_size: SampleSizeCheck | None = None
    distinct_documents: DistinctDocumentsCheck | None = None
    samples_per_scenario: list[ScenarioSamplesCheck] = []
    class_imbalance: list[ClassImbalanceCheck] = []
    missing_percentage: MissingPercentageCheck | None = None


class MetricMinimums(_Strict):
    accuracy: float | None = Field(default=None, ge=0, le=1)
    precision: float | None = Field(default=None, ge=0, le=1)
    recall: float | None = Field(default=None, ge=0, le=1)
    f1: float | None = Field(default=None, ge=0, le=1)


class Thresholds(_Strict):
    autonomous: MetricMinimums
    human_in_loop: MetricMinimums


class EvaluationConfig(_Strict):
    description: str | None = None
    # The team's addresses (the seed's team_email): outcome emails go to them.
    notify: list[str] = []
    fields: dict[str, FieldConfig] = Field(min_length=1)
    scenario_columns: list[str] = []
    dataset_checks: DatasetChecks = DatasetChecks()
    thresholds: Thresholds

    @model_validator(mode="after")
    def _critical_fields_exist(self) -> EvaluationConfig:
        missing = self.dataset_checks.missing_percentage
        if missing is not None:
            unknown = [f for f in missing.critical_fields if f not in self.fields]
            if unknown:
                raise ValueError(
                    f"dataset_checks.missing_percentage.critical_fields: unknown fields {unknown}"
                )
        return self


CONFIG_NAMES = ("config.json", "config.yaml", "config.yml")
# The check name of issues found by the fields' validation_rules; the rest are dataset-level.
FIELD_CHECK = "field_validation"


def find_config(use_case_dir: Path) -> Path:
    """The use case's config file; JSON wins when both exist."""
    for name in CONFIG_NAMES:
        candidate = use_case_dir / name
        if candidate.is_file():
            return candidate
    raise EvaluationInputError(use_case_dir, f"no {' / '.join(CONFIG_NAMES)} found")


def _key_path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


def parse_config(raw: Any, source: Path | str) -> EvaluationConfig:
    """Validate already-decoded config data; errors name ``source`` and the key path."""
    if not isinstance(raw, dict):
        raise EvaluationInputError(source, "the top level must be a mapping")
    try:
        return EvaluationConfig.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        raise EvaluationInputError(
            source, f"{first['msg']}{more}", key=_key_path(first["loc"]) or None
        ) from exc


def load_config(path: Path) -> EvaluationConfig:
    """Read and validate ``config.json``/``.yaml``; a directory means "find it in there"."""
    if path.is_dir():
        path = find_config(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EvaluationInputError(path, f"cannot read the file: {exc}") from exc
    try:
        raw = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise EvaluationInputError(path, f"not valid {path.suffix.lstrip('.')}: {exc}") from exc
    return parse_config(raw, path)
