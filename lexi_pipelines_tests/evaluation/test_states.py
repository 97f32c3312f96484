from __future__ import annotations

import itertools

import pytest

from lexi_pipelines.evaluation.states import (
    ALLOWED_TRANSITIONS,
    IllegalTransition,
    transition,
)
from lexi_pipelines.evaluation.states import (
    ModelEvaluationState as S,
)


def test_seed_flows_are_allowed() -> None:
    happy = [
        S.REGISTERED,
        S.QUALITY_CHECK_PENDING,
        S.QUALITY_CHECK_RUNNING,
        S.QUALITY_CHECK_PASSED,
        S.EVALUATION_QUEUED,
        S.EVALUATION_RUNNING,
        S.EVALUATION_COMPLETED,
        S.ARCHIVED,
    ]
    fix = [
        S.QUALITY_CHECK_RUNNING,
        S.QUALITY_CHECK_FAILED,
        S.AWAITING_DATA_FIX,
        S.QUALITY_CHECK_PENDING,
    ]
    retry = [S.EVALUATION_RUNNING, S.EVALUATION_FAILED, S.EVALUATION_QUEUED]
    for path in (happy, fix, retry):
        for cur, nxt in itertools.pairwise(path):
            assert transition(cur, nxt) is nxt
    assert transition("REGISTERED", "QUALITY_CHECK_PENDING") is S.QUALITY_CHECK_PENDING


def test_every_disallowed_pair_raises() -> None:
    illegal = 0
    for cur in S:
        for tgt in S:
            if tgt in ALLOWED_TRANSITIONS[cur]:
                continue
            illegal += 1
            with pytest.raises(IllegalTransition) as err:
                transition(cur, tgt)
            assert err.value.current is cur and err.value.target is tgt
    assert illegal > 90


def test_specific_illegal_moves() -> None:
    for cur, tgt in [
        (S.REGISTERED, S.EVALUATION_RUNNING),
        (S.QUALITY_CHECK_FAILED, S.EVALUATION_QUEUED),
        (S.ARCHIVED, S.REGISTERED),
        (S.EVALUATION_RUNNING, S.ARCHIVED),
    ]:
        with pytest.raises(IllegalTransition, match=f"{cur} -> {tgt}"):
            transition(cur, tgt)
    with pytest.raises(ValueError):
        transition("NOPE", S.ARCHIVED)


def test_use_case_config_cycle() -> None:
    from lexi_pipelines.evaluation.states import UseCaseState as U
    from lexi_pipelines.evaluation.states import use_case_transition

    path = [
        U.AWAITING_CONFIG,
        U.CONFIG_RECEIVED,
        U.CONFIG_VALIDATION_RUNNING,
        U.CONFIG_INVALID,
        U.CONFIG_RECEIVED,
        U.CONFIG_VALIDATION_RUNNING,
        U.CONFIG_VALIDATED,
        U.ARCHIVED,
    ]
    for cur, nxt in itertools.pairwise(path):
        assert use_case_transition(cur, nxt) is nxt
    with pytest.raises(IllegalTransition, match="CONFIG_VALIDATION_RUNNING -> ARCHIVED"):
        use_case_transition(U.CONFIG_VALIDATION_RUNNING, U.ARCHIVED)
    with pytest.raises(IllegalTransition, match="allowed: none"):
        use_case_transition(U.ARCHIVED, U.CONFIG_RECEIVED)


def test_qc_crash_can_restart_without_a_data_fix() -> None:
    from lexi_pipelines.evaluation.states import RESTARTABLE

    assert transition(S.QUALITY_CHECK_FAILED, S.QUALITY_CHECK_PENDING) is S.QUALITY_CHECK_PENDING
    assert S.QUALITY_CHECK_RUNNING not in RESTARTABLE and S.EVALUATION_RUNNING not in RESTARTABLE
