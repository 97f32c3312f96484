"""Per-model evaluation state machine (from the seed's ``ModelEvaluationState``).

Happy path: REGISTERED -> QUALITY_CHECK_PENDING -> QUALITY_CHECK_RUNNING -> QUALITY_CHECK_PASSED
-> EVALUATION_QUEUED -> EVALUATION_RUNNING -> EVALUATION_COMPLETED. A failed QC goes to
AWAITING_DATA_FIX until a re-upload sends it back to QUALITY_CHECK_PENDING; a failed evaluation
may be re-queued. A new upload after completion/failure restarts QC. ARCHIVED is terminal and
reachable from every state that is not running.

The use case has its own, config-level machine (:class:`UseCaseState`): a config file is
received, validated, and is either valid or invalid until the next upload replaces it. The seed's
template-generation states are left out: templates were emailed by its web API, which Dagster
does not replace.
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
    # Straight back to PENDING when the run crashed during QC (no data fix is needed).
    S.QUALITY_CHECK_FAILED: frozenset({S.AWAITING_DATA_FIX, S.QUALITY_CHECK_PENDING, S.ARCHIVED}),
    S.AWAITING_DATA_FIX: frozenset({S.QUALITY_CHECK_PENDING, S.ARCHIVED}),
    # A new upload supersedes a queued evaluation: it is checked first.
    S.EVALUATION_QUEUED: frozenset({S.EVALUATION_RUNNING, S.QUALITY_CHECK_PENDING, S.ARCHIVED}),
    S.EVALUATION_RUNNING: frozenset({S.EVALUATION_COMPLETED, S.EVALUATION_FAILED}),
    S.EVALUATION_COMPLETED: frozenset({S.QUALITY_CHECK_PENDING, S.ARCHIVED}),
    S.EVALUATION_FAILED: frozenset({S.EVALUATION_QUEUED, S.QUALITY_CHECK_PENDING, S.ARCHIVED}),
    S.ARCHIVED: frozenset(),
}


# States a new upload (or a re-run) may restart the quality check from.
RESTARTABLE: frozenset[ModelEvaluationState] = frozenset(
    state for state, targets in ALLOWED_TRANSITIONS.items() if S.QUALITY_CHECK_PENDING in targets
)
RUNNING: frozenset[ModelEvaluationState] = frozenset(
    {S.QUALITY_CHECK_RUNNING, S.EVALUATION_RUNNING}
)


class UseCaseState(StrEnum):
    AWAITING_CONFIG = "AWAITING_CONFIG"
    CONFIG_RECEIVED = "CONFIG_RECEIVED"
    CONFIG_VALIDATION_RUNNING = "CONFIG_VALIDATION_RUNNING"
    CONFIG_VALIDATED = "CONFIG_VALIDATED"
    CONFIG_INVALID = "CONFIG_INVALID"
    ARCHIVED = "ARCHIVED"
    CANCELLED = "CANCELLED"


U = UseCaseState

USE_CASE_TRANSITIONS: dict[UseCaseState, frozenset[UseCaseState]] = {
    U.AWAITING_CONFIG: frozenset({U.CONFIG_RECEIVED, U.ARCHIVED, U.CANCELLED}),
    U.CONFIG_RECEIVED: frozenset({U.CONFIG_VALIDATION_RUNNING, U.ARCHIVED, U.CANCELLED}),
    U.CONFIG_VALIDATION_RUNNING: frozenset({U.CONFIG_VALIDATED, U.CONFIG_INVALID}),
    U.CONFIG_VALIDATED: frozenset({U.CONFIG_RECEIVED, U.AWAITING_CONFIG, U.ARCHIVED, U.CANCELLED}),
    U.CONFIG_INVALID: frozenset({U.CONFIG_RECEIVED, U.AWAITING_CONFIG, U.ARCHIVED, U.CANCELLED}),
    U.ARCHIVED: frozenset(),
    U.CANCELLED: frozenset(),
}


class IllegalTransition(ValueError):
    def __init__(self, current: StrEnum, target: StrEnum, allowed: frozenset[StrEnum]) -> None:
        self.current = current
        self.target = target
        names = ", ".join(sorted(allowed)) or "none"
        super().__init__(f"illegal transition {current} -> {target} (allowed: {names})")


def can_transition(current: ModelEvaluationState, target: ModelEvaluationState) -> bool:
    return target in ALLOWED_TRANSITIONS[current]


def transition(
    current: ModelEvaluationState | str, target: ModelEvaluationState | str
) -> ModelEvaluationState:
    """Return ``target`` if the move is allowed, else raise :class:`IllegalTransition`."""
    cur, tgt = ModelEvaluationState(current), ModelEvaluationState(target)
    if not can_transition(cur, tgt):
        raise IllegalTransition(cur, tgt, ALLOWED_TRANSITIONS[cur])
    return tgt


def use_case_transition(current: UseCaseState | str, target: UseCaseState | str) -> UseCaseState:
    cur, tgt = UseCaseState(current), UseCaseState(target)
    if tgt not in USE_CASE_TRANSITIONS[cur]:
        raise IllegalTransition(cur, tgt, USE_CASE_TRANSITIONS[cur])
    return tgt
