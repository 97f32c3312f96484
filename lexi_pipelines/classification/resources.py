"""Where model artifacts live, and the IO manager that writes and reads them."""

from pathlib import Path

import dagster as dg
from pydantic import Field

from lexi_pipelines.classification.artifacts import ModelStore
from lexi_pipelines.classification.errors import ArtifactIntegrityError
from lexi_pipelines.classification.model import TrainedModel
from lexi_pipelines.classification.partitions import split_field_key
from lexi_pipelines.classification.store import FAILED, READY, finish_model, latest_model
from lexi_pipelines.common.failures import permanent_failures
from lexi_pipelines.common.resources import DatabaseResource


class ModelArtifactIOManager(dg.ConfigurableIOManager):
    """Writes a trained model to ``{storage}/{project}/models/{field}/v{version}/`` atomically
    and marks its ``models`` row READY (or FAILED); loads the latest READY version after
    verifying its checksums."""

    storage_path: str = Field(description="LEXI_STORAGE_PATH")
    database: dg.ResourceDependency[DatabaseResource]

    @property
    def store(self) -> ModelStore:
        return ModelStore(Path(self.storage_path).expanduser().resolve())

    def handle_output(self, context: dg.OutputContext, obj: TrainedModel) -> None:
        project, field = split_field_key(context.partition_key)
        try:
            saved = self.store.save(project, field, obj.version, obj.pipeline, obj.manifest)
        except BaseException as exc:
            finish_model(
                self.database.engine, project, field, obj.version, status=FAILED, error=str(exc)
            )
            raise
        finish_model(
            self.database.engine, project, field, obj.version, status=READY, path=str(saved.path)
        )
        context.add_output_metadata(
            {"path": dg.MetadataValue.path(str(saved.path)), "version": obj.version}
        )

    def load_input(self, context: dg.InputContext) -> TrainedModel:
        project, field = split_field_key(context.partition_key)
        row = latest_model(self.database.engine, project, field)
        if row is None:
            raise dg.Failure(
                f"{project}/{field}: no READY model to load; materialize field_model first",
                allow_retries=False,
            )
        with permanent_failures(ArtifactIntegrityError):
            pipeline, manifest = self.store.load(project, field, int(row["version"]))
        return TrainedModel(int(row["version"]), pipeline, manifest)
