"""Classification assets of one ``project/field`` partition: model, evaluation, predictions."""

from typing import Any

import dagster as dg
from pydantic import Field

from lexi_pipelines.classification.artifacts import ModelStore
from lexi_pipelines.classification.errors import ClassificationInputError
from lexi_pipelines.classification.model import TrainedModel
from lexi_pipelines.classification.partitions import field_partitions, split_field_key
from lexi_pipelines.classification.pipeline import PipelineConfig
from lexi_pipelines.classification.plugins import PluginError
from lexi_pipelines.classification.store import finish_model, latest_model, training_data
from lexi_pipelines.classification.training import (
    evaluate_model,
    predict_field,
    prepare_field,
    train_field,
)
from lexi_pipelines.common.failures import TRANSIENT_RETRY, permanent_failures
from lexi_pipelines.common.markdown import markdown_table
from lexi_pipelines.common.queues import TRAINING_QUEUE, celery_queue_tags
from lexi_pipelines.common.resources import DatabaseResource
from lexi_pipelines.documents.resources import DocumentStorageResource

FIELD_MODEL = dg.AssetKey(["classification", "field_model"])
FIELD_MODEL_EVALUATION = dg.AssetKey(["classification", "field_model_evaluation"])
FIELD_PREDICTIONS = dg.AssetKey(["classification", "field_predictions"])


class TrainingConfig(dg.Config):
    """Plugins by name (see the plugin registry); empty means the default pipeline's."""

    tokenizer: str | None = Field(default=None, description="unicode, icu, spacy, ...")
    tokenizer_params: dict[str, Any] = Field(default_factory=dict)
    features: str | None = Field(default=None, description="tfidf, bow, hashing, sbert")
    features_params: dict[str, Any] = Field(default_factory=dict)
    classifier: str | None = Field(default=None, description="svm, logreg, xgboost, transformer")
    classifier_params: dict[str, Any] = Field(default_factory=dict)

    def pipeline_config(self) -> PipelineConfig:
        chosen: dict[str, Any] = {}
        for kind in ("tokenizer", "features", "classifier"):
            if getattr(self, kind):
                chosen[kind] = getattr(self, kind)
            if getattr(self, f"{kind}_params"):
                chosen[f"{kind}_params"] = getattr(self, f"{kind}_params")
        return PipelineConfig(**chosen)


@dg.asset(
    key=FIELD_MODEL,
    partitions_def=field_partitions,
    group_name="classification",
    kinds={"scikitlearn"},
    io_manager_key="model_io_manager",
    retry_policy=TRANSIENT_RETRY,
    # Under the Celery executor, training runs only on workers that serve the training queue.
    op_tags=celery_queue_tags(TRAINING_QUEUE),
    description="A new version of the field's classifier, trained on its training labels with "
    "the configured tokenizer, features and classifier; written to "
    "{storage}/{project}/models/{field}/v{version}/ with a manifest of checksums.",
)
def field_model(
    context: dg.AssetExecutionContext,
    config: TrainingConfig,
    database: DatabaseResource,
    document_storage: DocumentStorageResource,
) -> dg.Output[TrainedModel]:
    project, field = split_field_key(context.partition_key)
    storage = document_storage.storage
    with permanent_failures(ClassificationInputError, PluginError):
        pipeline_config = config.pipeline_config()
        pipeline_config.validate()  # a bad plugin name or parameter fails before labels load
        prepared = prepare_field(database.engine, storage, project, field)
        model = train_field(database.engine, ModelStore(storage), prepared, pipeline_config)
    data = prepared.data
    if data.unknown_documents:
        context.log.warning(
            "%d labels name unknown documents (ignored): %s",
            len(data.unknown_documents),
            ", ".join(data.unknown_documents[:20]),
        )
    return dg.Output(
        model,
        metadata={
            "version": model.version,
            "classes": len(model.manifest["classes"]),
            "train_documents": len(data.train_texts),
            "test_documents": len(data.test_texts),
            "unknown_documents": dg.MetadataValue.json(data.unknown_documents[:100]),
            "documents_without_text": dg.MetadataValue.json(data.without_text[:100]),
            "fit_seconds": model.manifest["fit_seconds"],
            "plugins": dg.MetadataValue.json(model.manifest["plugins"]),
            "labels": prepared.source,
        },
    )


@dg.asset(
    key=FIELD_MODEL_EVALUATION,
    ins={"model": dg.AssetIn(FIELD_MODEL, input_manager_key="model_io_manager")},
    partitions_def=field_partitions,
    group_name="classification",
    kinds={"scikitlearn"},
    retry_policy=TRANSIENT_RETRY,
    description="Accuracy, macro-F1, per-class precision/recall/F1 and the confusion matrix of "
    "the latest model on the field's test labels, stored on its `models` row.",
)
def field_model_evaluation(
    context: dg.AssetExecutionContext,
    model: TrainedModel,
    database: DatabaseResource,
    document_storage: DocumentStorageResource,
) -> dg.MaterializeResult:
    project, field = split_field_key(context.partition_key)
    data = training_data(database.engine, document_storage.storage, project, field)
    with permanent_failures(ClassificationInputError):
        report = evaluate_model(model, data)
    metrics = report.to_dict()
    finish_model(database.engine, project, field, model.version, metrics=metrics)
    per_class = [
        {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}
        for row in metrics["per_class"]
    ]
    confusion = [
        {"true \\ predicted": name, **dict(zip(report.classes, counts, strict=True))}
        for name, counts in zip(report.classes, report.confusion, strict=True)
    ]
    return dg.MaterializeResult(
        metadata={
            "model_version": model.version,
            "accuracy": float(report.accuracy),
            "macro_f1": float(report.macro_f1),
            "majority_macro_f1": float(report.majority_macro_f1),
            "test_documents": len(data.test_texts),
            "per_class": dg.MetadataValue.md(markdown_table(per_class, limit=50)),
            "confusion_matrix": dg.MetadataValue.md(markdown_table(confusion, limit=50)),
        }
    )


@dg.asset(
    key=FIELD_PREDICTIONS,
    deps=[FIELD_MODEL_EVALUATION],
    partitions_def=field_partitions,
    group_name="classification",
    kinds={"scikitlearn", "sql"},
    retry_policy=TRANSIENT_RETRY,
    description="Predictions of the latest model that passed evaluation for every extracted "
    "document not yet predicted by that version: latest in `predictions`, history in "
    "{storage}/{project}/predictions/{field}/predictions_v{N}.jsonl.",
)
def field_predictions(
    context: dg.AssetExecutionContext,
    database: DatabaseResource,
    document_storage: DocumentStorageResource,
) -> dg.MaterializeResult:
    project, field = split_field_key(context.partition_key)
    storage = document_storage.storage
    row = latest_model(database.engine, project, field, passed_only=True)
    if row is None:
        raise dg.Failure(
            f"{project}/{field}: no model has passed evaluation yet", allow_retries=False
        )
    store = ModelStore(storage)
    pipeline, manifest = store.load(project, field, int(row["version"]))
    run = predict_field(
        database.engine,
        storage,
        project,
        field,
        TrainedModel(int(row["version"]), pipeline, manifest),
    )
    rate = run.predicted / run.duration_s if run.duration_s else 0.0
    context.log.info(
        "%s/%s: model v%d predicted %d documents in %.2fs", project, field, run.version,
        run.predicted, run.duration_s,
    )  # fmt: skip
    return dg.MaterializeResult(
        metadata={
            "model_version": run.version,
            "predicted": run.predicted,
            "by_class": dg.MetadataValue.json(run.by_class),
            "history": dg.MetadataValue.path(str(run.history_file)),
            "predictions_per_s": round(rate, 1),
        }
    )
