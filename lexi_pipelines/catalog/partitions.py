"""One partition per ingestor of ingestion.yaml, read once when definitions load."""

from __future__ import annotations

import dagster as dg

from lexi_pipelines.catalog.config import IngestionConfig, load_ingestion_config
from lexi_pipelines.settings import get_settings

ingestion_config: IngestionConfig = load_ingestion_config(get_settings().ingestion_config)

ingestor_partitions = dg.StaticPartitionsDefinition(ingestion_config.names)
