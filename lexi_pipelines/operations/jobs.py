"""On-demand jobs submitted by people and programs (``lexi jobs submit``, GraphQL)."""

from pathlib import Path

import dagster as dg
from pydantic import Field

from lexi_pipelines.classification.errors import ArtifactIntegrityError, ClassificationInputError
from lexi_pipelines.classification.inference import (
    gather_items,
    output_path,
    run_inference,
    validate_target,
)
from lexi_pipelines.common.failures import TRANSIENT_RETRY, permanent_failures
from lexi_pipelines.common.queues import queue
from lexi_pipelines.common.resources import DatabaseResource
from lexi_pipelines.documents.resources import DocumentStorageResource
from lexi_pipelines.operations.submit import INFERENCE_JOB, INFERENCE_OP


class InferenceConfig(dg.Config):
    project: str = Field(description="Project whose field model predicts.")
    field: str = Field(description="Label field, e.g. `default`.")
    texts: list[str] = Field(default_factory=list, description="Texts, ids text-1, text-2, ...")
    file: str | None = Field(
        default=None,
        description='JSONL file readable by the run worker, lines {"id": ..., "text": ...}.',
    )
    output: str | None = Field(
        default=None,
        description="Predictions file inside the storage root; relative paths resolve against "
        "{storage}/{project}/predictions/{field}/inference/. Default: {run_id}.jsonl there.",
    )


@dg.op(
    name=INFERENCE_OP,
    retry_policy=TRANSIENT_RETRY,
    description="Label the given texts with the field's latest passed model; JSONL out.",
)
def classify_texts(
    context: dg.OpExecutionContext,
    config: InferenceConfig,
    database: DatabaseResource,
    document_storage: DocumentStorageResource,
) -> dg.Output[None]:
    storage = document_storage.storage
    with permanent_failures(ClassificationInputError, ArtifactIntegrityError):
        validate_target(config.project, config.field)
        items = gather_items(config.texts, Path(config.file) if config.file else None)
        target = output_path(storage, config.project, config.field, context.run_id, config.output)
        context.log.info("%s/%s: %d texts to label", config.project, config.field, len(items))
        result = run_inference(
            database.engine, storage, config.project, config.field, items, target
        )
    context.log.info(
        "model v%d labelled %d texts in %.3fs (%.0f/s) -> %s",
        result.model_version,
        result.count,
        result.duration_s,
        result.per_second,
        result.output,
    )
    # No value to hand on (the predictions are in the file): None keeps IO managers out.
    return dg.Output(
        None,
        metadata={
            "model_version": result.model_version,
            "count": result.count,
            "output": dg.MetadataValue.path(str(result.output)),
            "by_label": dg.MetadataValue.json(result.by_label),
            "predictions_per_s": round(result.per_second, 1),
        },
    )


# One op: the multiprocess executor's extra process per step would only add start-up time.
@dg.job(
    name=INFERENCE_JOB,
    tags=queue("prediction"),
    executor_def=dg.in_process_executor,
    description="Predict submitted texts (inline or a JSONL file) with a field's latest model "
    "that passed evaluation; writes a JSONL file of predictions.",
)
def classification_inference_job() -> None:
    classify_texts()
