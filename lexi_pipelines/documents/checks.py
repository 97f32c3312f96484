"""Asset checks on a project's extraction outcome and chunks."""

import dagster as dg

from lexi_pipelines.common.markdown import markdown_table
from lexi_pipelines.common.resources import DatabaseResource
from lexi_pipelines.documents.assets import DOCUMENT_CHUNKS, DOCUMENT_TEXT
from lexi_pipelines.documents.extraction import FAILED
from lexi_pipelines.documents.partitions import project_partitions
from lexi_pipelines.documents.queries import chunk_stats, failed_documents, status_counts
from lexi_pipelines.documents.resources import DocumentStorageResource


@dg.asset_check(
    asset=DOCUMENT_TEXT,
    partitions_def=project_partitions,
    blocking=True,
    description="The share of FAILED documents stays at or below max_failure_rate; a higher "
    "share points at a systematic problem, so chunking (and embedding) waits.",
)
def extraction_failure_rate(
    context: dg.AssetCheckExecutionContext,
    database: DatabaseResource,
    document_storage: DocumentStorageResource,
) -> dg.AssetCheckResult:
    project = context.partition_key
    counts = status_counts(database.engine, project)
    total = sum(counts.values())
    failed = counts.get(FAILED, 0)
    rate = failed / total if total else 0.0
    return dg.AssetCheckResult(
        passed=rate <= document_storage.max_failure_rate,
        metadata={
            "failure_rate": round(rate, 4),
            "max_failure_rate": document_storage.max_failure_rate,
            "failed": failed,
            "documents": total,
            "failures": dg.MetadataValue.md(
                markdown_table(failed_documents(database.engine, project))
            ),
        },
    )


@dg.asset_check(
    asset=DOCUMENT_CHUNKS,
    partitions_def=project_partitions,
    description="Chunks fit the model window, and every extracted document is chunked with the "
    "current tokenizer and parameters.",
)
def chunks_fit_model_window(
    context: dg.AssetCheckExecutionContext,
    database: DatabaseResource,
    document_storage: DocumentStorageResource,
) -> dg.AssetCheckResult:
    chunker, key = document_storage.chunker()
    stats = chunk_stats(database.engine, context.partition_key, key)
    return dg.AssetCheckResult(
        passed=stats.max_tokens <= chunker.max_tokens
        and not stats.documents_without_chunks
        and stats.stale_documents == 0,
        metadata={
            "chunks": stats.chunks,
            "max_chunk_tokens": stats.max_tokens,
            "chunk_tokens_limit": chunker.max_tokens,
            "extracted_documents": stats.extracted_documents,
            "documents_without_chunks": dg.MetadataValue.json(stats.documents_without_chunks),
            "documents_not_chunked_with_current_key": stats.stale_documents,
        },
    )
