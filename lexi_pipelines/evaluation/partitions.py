"""Dynamic partitions: one per ``use_case/model`` and one per use case (for its leaderboard)."""

import dagster as dg

EVALUATION_MODELS = "evaluation_models"
EVALUATION_USE_CASES = "evaluation_use_cases"

model_partitions = dg.DynamicPartitionsDefinition(name=EVALUATION_MODELS)
use_case_partitions = dg.DynamicPartitionsDefinition(name=EVALUATION_USE_CASES)
