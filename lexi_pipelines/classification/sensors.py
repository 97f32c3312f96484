"""Sensor that adds a partition per labelled field and requests training when labels change."""

import json

import dagster as dg

from lexi_pipelines.classification.errors import ClassificationInputError
from lexi_pipelines.classification.jobs import training_job
from lexi_pipelines.classification.labels import read_labels
from lexi_pipelines.classification.partitions import FIELDS, field_partitions
from lexi_pipelines.documents.projects import discover_projects
from lexi_pipelines.documents.resources import DocumentStorageResource


@dg.sensor(
    name="labels_sensor",
    job=training_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="A `fields` partition per project/field found in label files; a training run "
    "when a field's labels change (by content hash).",
)
def labels_sensor(
    context: dg.SensorEvaluationContext, document_storage: DocumentStorageResource
) -> dg.SensorResult:
    previous: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    cursor: dict[str, str] = {}
    requests = []
    storage = document_storage.storage
    for project in discover_projects(storage):
        try:
            fields = read_labels(storage / project)
        except ClassificationInputError as exc:
            # Bad labels train nothing; keep what was known so a fix is seen as a change.
            context.log.warning("%s: labels not read: %s", project, exc)
            cursor.update({k: v for k, v in previous.items() if k.startswith(f"{project}/")})
            continue
        for name, labels in fields.items():
            key = f"{project}/{name}"
            digest = labels.content_hash()
            cursor[key] = digest
            if previous.get(key) != digest:
                requests.append(
                    dg.RunRequest(
                        run_key=f"{key}:{digest[:16]}",
                        partition_key=key,
                        tags={"lexi/trigger": "labels"},
                    )
                )
    known = set(context.instance.get_dynamic_partitions(FIELDS))
    new = sorted(k for k in cursor if k not in known)
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[field_partitions.build_add_request(new)] if new else [],
        cursor=json.dumps(cursor, sort_keys=True),
        skip_reason=None if requests or new else "no labels changed",
    )
