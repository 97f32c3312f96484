"""Resources of the code location, configured from the environment."""

import os
from typing import Any

import dagster as dg

from lexi_pipelines.catalog.resources import CatalogSourceResource
from lexi_pipelines.common.resources import DatabaseResource
from lexi_pipelines.documents.resources import DocumentStorageResource
from lexi_pipelines.settings import LexiSettings


def _env_or(name: str, default: str) -> Any:
    """``EnvVar`` when the variable is set (shown as such in the UI), else the default."""
    return dg.EnvVar(name) if os.environ.get(name) else default


def build_resources(settings: LexiSettings) -> dict[str, Any]:
    return {
        "database": DatabaseResource(url=_env_or("LEXI_DATABASE_URL", settings.database_url)),
        "catalog_sources": CatalogSourceResource(
            ingestion_config_path=_env_or("LEXI_INGESTION_CONFIG", str(settings.ingestion_config))
        ),
        "document_storage": DocumentStorageResource(
            storage_path=_env_or("LEXI_STORAGE_PATH", str(settings.storage_path))
        ),
    }
