"""Upload detection, and the reactions to finished evaluation runs.

* ``evaluation_upload_sensor`` adds a ``use_case/model`` partition per uploaded dataset and
  requests an evaluation run when a dataset or its use case's config changed (content hash);
  a removed model folder drops its partition and refreshes the leaderboard, which archives it.
* ``evaluation_run_failure_sensor`` closes a step a crashed run left RUNNING (EVALUATION_FAILED
  or QUALITY_CHECK_FAILED), sends the "evaluation failed" email, refreshes the leaderboard.
* ``evaluation_leaderboard_sensor`` refreshes the leaderboard after each successful run.
"""

import json

import dagster as dg

from lexi_pipelines.common.notifications import NotificationError
from lexi_pipelines.common.notifier import NotifierResource
from lexi_pipelines.common.resources import DatabaseResource
from lexi_pipelines.evaluation.assets import UPLOAD_TRIGGER_TAG
from lexi_pipelines.evaluation.jobs import evaluation_job, leaderboard_job
from lexi_pipelines.evaluation.partitions import (
    EVALUATION_MODELS,
    EVALUATION_USE_CASES,
    model_partitions,
    use_case_partitions,
)
from lexi_pipelines.evaluation.resources import EvaluationStorageResource
from lexi_pipelines.evaluation.store import Trigger
from lexi_pipelines.evaluation.uploads import scan, split_model_key


@dg.sensor(
    name="evaluation_upload_sensor",
    jobs=[evaluation_job, leaderboard_job],
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Partitions per uploaded model dataset; an evaluation run when a dataset or "
    "config is new or changed (by content hash, files re-hashed only when their stat changed).",
)
def evaluation_upload_sensor(
    context: dg.SensorEvaluationContext, evaluation_storage: EvaluationStorageResource
) -> dg.SensorResult:
    previous = json.loads(context.cursor) if context.cursor else {}
    known_digests: dict[str, str] = previous.get("digests", {})
    found = scan(evaluation_storage.paths.root, previous.get("files", {}))
    for reason in found.skipped:
        context.log.warning("ignored: %s", reason)

    # Run keys count each key's changes rather than only naming the content: a dataset
    # reverted to an earlier version (or re-uploaded after removal) would otherwise reuse a
    # spent run key, and Dagster silently drops a request whose key it has seen.
    changes: dict[str, int] = dict(previous.get("changes", {}))
    requests: list[dg.RunRequest] = []
    for key, digest in sorted(found.digests.items()):
        if known_digests.get(key) == digest:
            continue
        changes[key] = changes.get(key, 0) + 1
        requests.append(
            dg.RunRequest(
                job_name=evaluation_job.name,
                partition_key=key,
                run_key=f"{key}:{changes[key]}:{digest[:16]}",
                tags={UPLOAD_TRIGGER_TAG: "upload"},
            )
        )
    instance = context.instance
    known_models = set(instance.get_dynamic_partitions(EVALUATION_MODELS))
    known_cases = set(instance.get_dynamic_partitions(EVALUATION_USE_CASES))
    new_models = sorted(set(found.digests) - known_models)
    new_cases = sorted(set(found.use_cases) - known_cases)
    gone = sorted(k for k in known_models if k not in found.digests)
    partition_requests: list[dg.AddDynamicPartitionsRequest | dg.DeleteDynamicPartitionsRequest]
    partition_requests = []
    if new_models:
        partition_requests.append(model_partitions.build_add_request(new_models))
    if new_cases:
        partition_requests.append(use_case_partitions.build_add_request(new_cases))
    if gone:
        partition_requests.append(model_partitions.build_delete_request(gone))
        for use_case in sorted(
            {split_model_key(k)[0] for k in gone} & (known_cases | set(new_cases))
        ):
            requests.append(
                dg.RunRequest(
                    job_name=leaderboard_job.name,
                    partition_key=use_case,
                    run_key=f"removed:{use_case}:"
                    + ",".join(f"{k}#{changes.get(k, 0)}" for k in gone),
                )
            )  # fmt: skip
    cursor = {"files": found.files, "digests": found.digests, "changes": changes}
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=partition_requests,
        cursor=json.dumps(cursor, sort_keys=True),
        skip_reason=None if requests or partition_requests else "no upload changed",
    )


def _partition_of(run: dg.DagsterRun) -> str | None:
    return run.tags.get("dagster/partition")


@dg.run_failure_sensor(
    name="evaluation_run_failure_sensor",
    monitored_jobs=[evaluation_job],
    request_job=leaderboard_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Marks a step left running by a failed or crashed evaluation run as failed, "
    "emails the team, and refreshes the use case's leaderboard.",
)
def evaluation_run_failure_sensor(
    context: dg.RunFailureSensorContext,
    database: DatabaseResource,
    evaluation_storage: EvaluationStorageResource,
    notifier: NotifierResource,
) -> dg.RunRequest | dg.SkipReason:
    key = _partition_of(context.dagster_run)
    if key is None:
        return dg.SkipReason("run has no partition")
    use_case, model = split_model_key(key)
    error = context.failure_event.message or "the run failed"
    trigger = Trigger("evaluation_run_failure_sensor", context.dagster_run.run_id, error)
    # The pandas-backed core loads only when a run failed, not on every definitions load.
    from lexi_pipelines.evaluation import notices
    from lexi_pipelines.evaluation.pipeline import mark_evaluation_failed, use_case_recipients

    if mark_evaluation_failed(database.engine, use_case, model, trigger):
        recipients = use_case_recipients(evaluation_storage.paths, use_case)
        try:
            sent = notifier.send(notices.evaluation_failed(use_case, model, error, recipients))
        except NotificationError as exc:
            # The state is recorded and the leaderboard must still follow: log, don't raise.
            context.log.error("%s: marked failed; notification not sent: %s", key, exc)
        else:
            context.log.info("%s: marked failed; notified %s", key, sent)
    return dg.RunRequest(run_key=context.dagster_run.run_id, partition_key=use_case)


@dg.run_status_sensor(
    name="evaluation_leaderboard_sensor",
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[evaluation_job],
    request_job=leaderboard_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Refreshes the use case's leaderboard after each successful evaluation run.",
)
def evaluation_leaderboard_sensor(
    context: dg.RunStatusSensorContext,
) -> dg.RunRequest | dg.SkipReason:
    key = _partition_of(context.dagster_run)
    if key is None:
        return dg.SkipReason("run has no partition")
    use_case, _ = split_model_key(key)
    return dg.RunRequest(run_key=context.dagster_run.run_id, partition_key=use_case)
