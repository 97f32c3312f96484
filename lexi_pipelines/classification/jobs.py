"""Training (model, evaluation, gate, predictions) and prediction-only jobs per field."""

import dagster as dg

from lexi_pipelines.classification.assets import (
    field_model,
    field_model_evaluation,
    field_predictions,
)
from lexi_pipelines.common.queues import queue

training_job = dg.define_asset_job(
    name="classification_training_job",
    selection=dg.AssetSelection.assets(field_model, field_model_evaluation, field_predictions),
    tags=queue("training"),
    description="Train a new version of a field's model, evaluate it, and predict with it if it "
    "passes the gate.",
)

prediction_job = dg.define_asset_job(
    name="classification_prediction_job",
    selection=dg.AssetSelection.assets(field_predictions),
    tags=queue("prediction"),
    description="Predict documents not yet predicted by the field's latest passed model.",
)
