"""Resources of the code location, configured from the environment."""

import os
from typing import Any

import dagster as dg

from lexi_pipelines.catalog.resources import CatalogSourceResource
from lexi_pipelines.classification.resources import ModelArtifactIOManager
from lexi_pipelines.common.notifier import NotifierResource
from lexi_pipelines.common.resources import DatabaseResource
from lexi_pipelines.documents.resources import DocumentStorageResource
from lexi_pipelines.evaluation.resources import EvaluationStorageResource
from lexi_pipelines.settings import LexiSettings
from lexi_pipelines.vectors.resources import Embedder, VectorIndexResource


def _env_or(name: str, default: str | None) -> Any:
    """``EnvVar`` when the variable is set (shown as such in the UI), else the default."""
    return dg.EnvVar(name) if os.environ.get(name) else default


def _notifier(settings: LexiSettings) -> NotifierResource:
    port: Any = dg.EnvVar.int("LEXI_SMTP_PORT") if os.environ.get("LEXI_SMTP_PORT") else 587
    # A Literal field takes no EnvVar (and the mode is no secret): read it here, pydantic checks it.
    security: Any = (os.environ.get("LEXI_SMTP_SECURITY") or "starttls").strip().lower()
    recipients = os.environ.get("LEXI_NOTIFY_TO", "").split(",")
    return NotifierResource(
        smtp_host=_env_or("LEXI_SMTP_HOST", None),
        smtp_port=port,
        smtp_security=security,
        smtp_username=_env_or("LEXI_SMTP_USERNAME", None),
        smtp_password=_env_or("LEXI_SMTP_PASSWORD", None),
        sender=_env_or("LEXI_NOTIFY_FROM", "lexi-pipelines@localhost"),
        recipients=[address.strip() for address in recipients if address.strip()],
        outbox_path=_env_or("LEXI_OUTBOX_PATH", str(settings.outbox_path)),
    )


def build_resources(settings: LexiSettings) -> dict[str, Any]:
    database = DatabaseResource(url=_env_or("LEXI_DATABASE_URL", settings.database_url))
    storage_path = _env_or("LEXI_STORAGE_PATH", str(settings.storage_path))
    return {
        "database": database,
        "catalog_sources": CatalogSourceResource(
            ingestion_config_path=_env_or("LEXI_INGESTION_CONFIG", str(settings.ingestion_config))
        ),
        "document_storage": DocumentStorageResource(storage_path=storage_path),
        "evaluation_storage": EvaluationStorageResource(storage_path=storage_path),
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
        "notifier": _notifier(settings),
    }
