"""Catalog resources: where ingestion.yaml lives and how sources are read."""

from functools import cached_property
from pathlib import Path

import dagster as dg
from pydantic import Field

from lexi_pipelines.catalog.config import IngestionConfig, IngestorConfig, load_ingestion_config
from lexi_pipelines.catalog.sources import DEFAULT_TIMEOUT_S, SourceReader


class CatalogSourceResource(dg.ConfigurableResource):
    ingestion_config_path: str = Field(description="Path of ingestion.yaml")
    http_timeout_s: float = Field(default=DEFAULT_TIMEOUT_S, gt=0)

    @cached_property
    def ingestion_config(self) -> IngestionConfig:
        return load_ingestion_config(Path(self.ingestion_config_path))

    def ingestor(self, name: str) -> IngestorConfig:
        return self.ingestion_config.get(name)

    def reader(self) -> SourceReader:
        return SourceReader(timeout_s=self.http_timeout_s)
