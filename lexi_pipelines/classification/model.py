"""What the training asset hands to the IO manager."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class TrainedModel:
    version: int
    pipeline: Any  # a fitted TextClassifier (picklable)
    manifest: dict[str, Any]
