"""Resources of the code location, configured from the environment."""

import os
from typing import Any

import dagster as dg

from lexi_pipelines.catalog.resources import CatalogSourceResource
from lexi_pipelines.classification.resources import ModelArtifactIOManager
from lexi_pipelines.common.resources import DatabaseResource
from lexi_pipelines.documents.resources import DocumentStorageResource
from lexi_pipelines.settings import LexiSettings
from lexi_pipelines.vectors.resources import Embedder, VectorIndexResource


def _env_or(name: str, default: str | None) -> Any:
    """``EnvVar`` when the variable is set (shown as such in the UI), else the default."""
    return dg.EnvVar(name) if os.environ.get(name) else default


def build_resources(settings: LexiSettings) -> dict[str, Any]:
    database = DatabaseResource(url=_env_or("LEXI_DATABASE_URL", settings.database_url))
    storage_path = _env_or("LEXI_STORAGE_PATH", str(settings.storage_path))
    return {
        "database": database,
        "catalog_sources": CatalogSourceResource(
            ingestion_config_path=_env_or("LEXI_INGESTION_CONFIG", str(settings.ingestion_config))
        ),
        "document_storage": DocumentStorageResource(storage_path=storage_path),
        "model_io_manager": ModelArtifactIOManager(storage_path=storage_path, database=database),
        "embedder": Embedder(
            model=_env_or("LEXI_EMBEDDING_MODEL", settings.embedding_model),
            device=_env_or("LEXI_EMBEDDING_DEVICE", settings.embedding_device),
        ),
        "vector_index": VectorIndexResource(
            backend=_env_or("LEXI_VECTOR_BACKEND", settings.vector_backend),
            path=_env_or("LEXI_VECTOR_PATH", str(settings.vector_path)),
            pinecone_api_key=_env_or("PINECONE_API_KEY", None),
            pinecone_host=_env_or("LEXI_PINECONE_HOST", None),
        ),
    }
