"""Sensor that turns new project folders into partitions and file changes into runs."""

import json

import dagster as dg
from sqlalchemy.exc import SQLAlchemyError

from lexi_pipelines.common.resources import DatabaseResource
from lexi_pipelines.documents.inventory import scan_documents
from lexi_pipelines.documents.jobs import documents_job
from lexi_pipelines.documents.partitions import PROJECTS, project_partitions
from lexi_pipelines.documents.projects import discover_projects, project_paths
from lexi_pipelines.documents.registry import project_files_changed
from lexi_pipelines.documents.resources import DocumentStorageResource

INBOX_INTERVAL_S = 30


@dg.sensor(
    name="documents_inbox_sensor",
    job=documents_job,
    minimum_interval_seconds=INBOX_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Adds a partition per new project folder and requests a run for each project "
    "whose files were added, changed (by content hash) or deleted.",
)
def documents_inbox_sensor(
    context: dg.SensorEvaluationContext,
    database: DatabaseResource,
    document_storage: DocumentStorageResource,
) -> dg.SensorResult:
    # Cursor: per project, a digest of its files' paths, sizes and mtimes. An idle tick lists
    # and stats the folders and stops there; only a changed digest costs a database look-up
    # (and hashing of the files whose stat changed).
    previous: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    projects = discover_projects(document_storage.storage)
    known = set(context.instance.get_dynamic_partitions(PROJECTS))
    new_partitions = [p for p in projects if p not in known]
    cursor: dict[str, str] = {}
    requests: list[dg.RunRequest] = []
    for project in projects:
        paths = project_paths(document_storage.storage, project)
        inventory = scan_documents(paths.documents)
        digest = inventory.digest()
        if previous.get(project) == digest:
            cursor[project] = digest
            continue
        try:
            changed = project_files_changed(database.engine, paths, inventory)
        except SQLAlchemyError as exc:
            # Leave this project's cursor as it was: the next tick looks again.
            context.log.warning("%s: database unavailable, will retry: %s", project, exc)
            if project in previous:
                cursor[project] = previous[project]
            continue
        cursor[project] = digest
        if changed:
            requests.append(
                dg.RunRequest(
                    run_key=f"{project}:{digest[:16]}",
                    partition_key=project,
                    tags={"lexi/trigger": "inbox"},
                )
            )
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=(
            [project_partitions.build_add_request(new_partitions)] if new_partitions else []
        ),
        cursor=json.dumps(cursor, sort_keys=True),
        skip_reason=None if requests or new_partitions else "no project's files changed",
    )
