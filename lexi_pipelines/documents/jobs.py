"""The partitioned documents job: registry, text and chunks of one project."""

import dagster as dg

from lexi_pipelines.common.queues import queue
from lexi_pipelines.documents.assets import document_chunks, document_text, documents_registry
from lexi_pipelines.vectors.assets import chunk_vectors

documents_job = dg.define_asset_job(
    name="documents_job",
    selection=dg.AssetSelection.assets(
        documents_registry, document_text, document_chunks, chunk_vectors
    ),
    tags=queue("ingestion"),
    description="Sync a project's files, extract new and changed ones, chunk and index them.",
)
