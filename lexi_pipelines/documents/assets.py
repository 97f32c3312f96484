"""Documents assets: the file registry, extracted text and token-aware chunks of a project."""

from collections import Counter

import dagster as dg
from pydantic import Field

from lexi_pipelines.common.failures import TRANSIENT_RETRY, permanent_failures
from lexi_pipelines.common.markdown import markdown_table
from lexi_pipelines.common.resources import DatabaseResource
from lexi_pipelines.documents.chunk import chunk_project
from lexi_pipelines.documents.errors import DocumentsInputError
from lexi_pipelines.documents.extract import extract_pending
from lexi_pipelines.documents.partitions import project_partitions
from lexi_pipelines.documents.projects import ProjectPaths
from lexi_pipelines.documents.queries import status_counts
from lexi_pipelines.documents.registry import sync_project
from lexi_pipelines.documents.resources import DocumentStorageResource

DOCUMENTS = dg.AssetKey(["documents", "documents"])
DOCUMENT_TEXT = dg.AssetKey(["documents", "document_text"])
DOCUMENT_CHUNKS = dg.AssetKey(["documents", "document_chunks"])


def _project_paths(
    context: dg.AssetExecutionContext, document_storage: DocumentStorageResource
) -> ProjectPaths:
    with permanent_failures(DocumentsInputError):
        return document_storage.paths(context.partition_key)


class DocumentsRegistryConfig(dg.Config):
    rehash: bool = Field(
        default=False,
        description="Hash every file, not only those whose size or mtime changed (catches "
        "edits that keep both).",
    )


@dg.asset(
    key=DOCUMENTS,
    partitions_def=project_partitions,
    group_name="documents",
    kinds={"file", "sql"},
    retry_policy=TRANSIENT_RETRY,
    description="Files under {storage}/{project}/documents/ in the `documents` table: stable "
    "id, path, sha256, size, media type and status. New and changed files become PENDING; "
    "deleted ones lose their rows, chunks and text.",
)
def documents_registry(
    context: dg.AssetExecutionContext,
    config: DocumentsRegistryConfig,
    database: DatabaseResource,
    document_storage: DocumentStorageResource,
) -> dg.MaterializeResult:
    paths = _project_paths(context, document_storage)
    with permanent_failures(DocumentsInputError):
        result = sync_project(database.engine, paths, rehash=config.rehash)
    context.log.info(
        "%s: %d files: %d new, %d changed, %d unchanged, %d deleted, %d skipped",
        paths.project,
        result.files,
        len(result.new),
        len(result.changed),
        result.unchanged + result.touched,
        len(result.deleted),
        len(result.skipped),
    )
    for skipped in result.skipped[:20]:
        context.log.warning("skipped %s: %s", skipped.relative_path, skipped.reason)
    return dg.MaterializeResult(
        metadata={
            "folder": dg.MetadataValue.path(str(paths.documents)),
            "files": result.files,
            "new": len(result.new),
            "changed": len(result.changed),
            "unchanged": result.unchanged + result.touched,
            "deleted": len(result.deleted),
            "deleted_ids": dg.MetadataValue.json(result.deleted[:100]),
            "skipped": dg.MetadataValue.md(
                markdown_table(
                    [{"file": s.relative_path, "reason": s.reason} for s in result.skipped]
                )
            ),
            "status_counts": dg.MetadataValue.json(status_counts(database.engine, paths.project)),
            "duration_s": round(result.duration_s, 3),
        }
    )


@dg.asset(
    key=DOCUMENT_TEXT,
    deps=[DOCUMENTS],
    partitions_def=project_partitions,
    group_name="documents",
    kinds={"pdf", "file", "sql"},
    retry_policy=TRANSIENT_RETRY,
    description="Text of every PENDING document under {storage}/{project}/text/{id}.txt; status "
    "EXTRACTED, NEEDS_OCR (a PDF without a text layer) or FAILED with the parser's reason. "
    "A bad file fails only itself.",
)
def document_text(
    context: dg.AssetExecutionContext,
    database: DatabaseResource,
    document_storage: DocumentStorageResource,
) -> dg.MaterializeResult:
    paths = _project_paths(context, document_storage)
    result = extract_pending(
        database.engine,
        paths,
        max_bytes=document_storage.max_bytes,
        workers=document_storage.extraction_workers or None,
        log=context.log.info,
        progress_interval_s=document_storage.progress_interval_s,
    )
    counts = Counter(result.by_status)
    docs_per_s = result.attempted / result.duration_s if result.duration_s else 0.0
    context.log.info(
        "%s: extracted %d documents (%s) in %.2fs with %d process(es), %.1f docs/s",
        paths.project,
        result.attempted,
        dict(counts),
        result.duration_s,
        result.workers,
        docs_per_s,
    )
    for failure in result.failures[:20]:
        context.log.warning("FAILED %s: %s", failure.relative_path, failure.error)
    failures = [
        {"document": f.doc_id, "file": f.relative_path, "reason": f.error} for f in result.failures
    ]
    return dg.MaterializeResult(
        metadata={
            "text_folder": dg.MetadataValue.path(str(paths.text)),
            "attempted": result.attempted,
            "extracted": counts["EXTRACTED"],
            "needs_ocr": counts["NEEDS_OCR"],
            "failed": counts["FAILED"],
            "pdf_pages": result.pages,
            "workers": result.workers,
            "docs_per_s": round(docs_per_s, 1),
            "duration_s": round(result.duration_s, 3),
            "failures": dg.MetadataValue.md(markdown_table(failures, limit=50)),
            "status_counts": dg.MetadataValue.json(status_counts(database.engine, paths.project)),
        }
    )


@dg.asset(
    key=DOCUMENT_CHUNKS,
    deps=[DOCUMENT_TEXT],
    partitions_def=project_partitions,
    group_name="documents",
    kinds={"sql"},
    retry_policy=TRANSIENT_RETRY,
    description="Token-aware chunks of every extracted document in the `chunks` table, sized "
    "with the embedding model's own tokenizer to fit its window, cut at paragraph and sentence "
    "boundaries with an overlap.",
)
def document_chunks(
    context: dg.AssetExecutionContext,
    database: DatabaseResource,
    document_storage: DocumentStorageResource,
) -> dg.MaterializeResult:
    paths = _project_paths(context, document_storage)
    chunker, key = document_storage.chunker()
    result = chunk_project(
        database.engine,
        paths,
        chunker,
        key,
        log=context.log.info,
        progress_interval_s=document_storage.progress_interval_s,
    )
    docs_per_s = result.documents / result.duration_s if result.duration_s else 0.0
    context.log.info(
        "%s: %d documents -> %d chunks (%d replaced) in %.2fs",
        paths.project,
        result.documents,
        result.chunks_written,
        result.chunks_replaced,
        result.duration_s,
    )
    if result.missing_text:
        context.log.warning(
            "%d documents lost their text file and go back to PENDING: %s",
            len(result.missing_text),
            ", ".join(result.missing_text[:20]),
        )
    return dg.MaterializeResult(
        metadata={
            "documents_chunked": result.documents,
            "chunks_written": result.chunks_written,
            "chunks_replaced": result.chunks_replaced,
            "tokens": result.tokens,
            "max_chunk_tokens": result.max_tokens,
            "chunk_tokens_limit": chunker.max_tokens,
            "overlap_tokens": chunker.overlap_tokens,
            "chunking_key": key,
            "missing_text": dg.MetadataValue.json(result.missing_text[:100]),
            "docs_per_s": round(docs_per_s, 1),
            "duration_s": round(result.duration_s, 3),
        }
    )
