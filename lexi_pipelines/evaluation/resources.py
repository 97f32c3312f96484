"""Where the evaluation uploads live: ``{LEXI_STORAGE_PATH}/evaluations``."""

from pathlib import Path

import dagster as dg
from pydantic import Field

from lexi_pipelines.evaluation.uploads import EvaluationPaths, evaluation_paths


class EvaluationStorageResource(dg.ConfigurableResource):
    storage_path: str = Field(
        description="Storage root (LEXI_STORAGE_PATH); use cases are under evaluations/."
    )

    @property
    def paths(self) -> EvaluationPaths:
        return evaluation_paths(Path(self.storage_path).expanduser())
