"""Per-model evaluation state machine (from the seed's ``ModelEvaluationState``).

Happy path: REGISTERED -> QUALITY_CHECK_PENDING -> QUALITY_CHECK_RUNNING -> QUALITY_CHECK_PASSED
-> EVALUATION_QUEUED -> EVALUATION_RUNNING -> EVALUATION_COMPLETED. A failed QC goes to
AWAITING_DATA_FIX until a re-upload sends it back to QUALITY_CHECK_PENDING; a failed evaluation
may be re-queued. A new upload after completion/failure restarts QC. ARCHIVED is terminal and
reachable from every state that is not running.
"""

from __future__ import annotations

from enum import StrEnum


class ModelEvaluationState(StrEnum):
    REGISTERED = "REGISTERED"
    QUALITY_CHECK_PENDING = "QUALITY_CHECK_PENDING"
    QUALITY_CHECK_RUNNING = "QUALITY_CHECK_RUNNING"
    QUALITY_CHECK_PASSED = "QUALITY_CHECK_PASSED"
    QUALITY_CHECK_FAILED = "QUALITY_CHECK_FAILED"
    AWAITING_DATA_FIX = "AWAITING_DATA_FIX"
    EVALUATION_QUEUED = "EVALUATION_QUEUED"
    EVALUATION_RUNNING = "EVALUATION_RUNNING"
    EVALUATION_COMPLETED = "EVALUATION_COMPLETED"
    EVALUATION_FAILED = "EVALUATION_FAILED"
    ARCHIVED = "ARCHIVED"


S = ModelEvaluationState

ALLOWED_TRANSITIONS: dict[ModelEvaluationState, frozenset[ModelEvaluationState]] = {
    S.REGISTERED: frozenset({S.QUALITY_CHECK_PENDING, S.ARCHIVED}),
    S.QUALITY_CHECK_PENDING: frozenset({S.QUALITY_CHECK_RUNNING, S.ARCHIVED}),
    # Running states cannot be archived: the run must finish (or fail) first.
    S.QUALITY_CHECK_RUNNING: frozenset({S.QUALITY_CHECK_PASSED, S.QUALITY_CHECK_FAILED}),
    S.QUALITY_CHECK_PASSED: frozenset({S.EVALUATION_QUEUED, S.ARCHIVED}),
    S.QUALITY_CHECK_FAILED: frozenset({S.AWAITING_DATA_FIX, S.ARCHIVED}),
    S.AWAITING_DATA_FIX: frozenset({S.QUALITY_CHECK_PENDING, S.ARCHIVED}),
    S.EVALUATION_QUEUED: frozenset({S.EVALUATION_RUNNING, S.ARCHIVED}),
    S.EVALUATION_RUNNING: frozenset({S.EVALUATION_COMPLETED, S.EVALUATION_FAILED}),
    S.EVALUATION_COMPLETED: frozenset({S.QUALITY_CHECK_PENDING, S.ARCHIVED}),
    S.EVALUATION_FAILED: frozenset({S.EVALUATION_QUEUED, S.QUALITY_CHECK_PENDING, S.ARCHIVED}),
    S.ARCHIVED: frozenset(),
}


class IllegalTransition(ValueError):
    def __init__(self, current: ModelEvaluationState, target: ModelEvaluationState) -> None:
        self.current = current
        self.target = target
        allowed = ", ".join(sorted(ALLOWED_TRANSITIONS[current])) or "none"
        super().__init__(f"illegal transition {current} -> {target} (allowed: {allowed})")


def can_transition(current: ModelEvaluationState, target: ModelEvaluationState) -> bool:
    return target in ALLOWED_TRANSITIONS[current]


def transition(
    current: ModelEvaluationState | str, target: ModelEvaluationState | str
) -> ModelEvaluationState:
    """Return ``target`` if the move is allowed, else raise :class:`IllegalTransition`."""
    cur, tgt = ModelEvaluationState(current), ModelEvaluationState(target)
    if not can_transition(cur, tgt):
        raise IllegalTransition(cur, tgt)
    return tgt
