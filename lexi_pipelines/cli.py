"""``lexi``: command line for set-up, documents and the embedded demo.

The demo runs the catalog job for every ingestor and the documents job for the demo project on
the embedded default (SQLite and local files under ``LEXI_HOME``) and records the runs in a
Dagster instance under ``LEXI_HOME/dagster`` so ``dagster dev`` shows them afterwards.
"""

import os
import shutil
import sys
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer

from lexi_pipelines.operations.commands import health, jobs_app
from lexi_pipelines.settings import get_settings

app = typer.Typer(help="Lexi Pipelines: catalog and document intelligence on Dagster.")
db_app = typer.Typer(help="Metadata database.")
app.add_typer(db_app, name="db")
documents_app = typer.Typer(help="Project documents: register files, show their status.")
app.add_typer(documents_app, name="documents")
app.add_typer(jobs_app, name="jobs")
app.command("health")(health)


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply the Alembic migrations to LEXI_DATABASE_URL."""
    from lexi_pipelines.db.engine import current_revision, make_engine, upgrade_schema

    settings = get_settings()
    engine = make_engine(settings.database_url)
    upgrade_schema(engine, revision)
    typer.echo(f"{engine.url.render_as_string(hide_password=True)}: at {current_revision(engine)}")


@documents_app.command("add")
def documents_add(
    project: Annotated[str, typer.Argument(help="Project name (its folder under storage)")],
    files: Annotated[list[Path], typer.Argument(help="Files to copy into the project")],
    subfolder: Annotated[str, typer.Option(help="Folder under documents/ to copy into")] = "",
    max_file_mb: Annotated[float, typer.Option(help="Refuse larger files")] = 100.0,
) -> None:
    """Copy files into {storage}/{project}/documents/; the inbox sensor picks them up."""
    from lexi_pipelines.documents.errors import DocumentsInputError
    from lexi_pipelines.documents.inbox import add_files

    storage = get_settings().storage_path
    try:
        targets = add_files(
            storage, project, files, subfolder=subfolder, max_bytes=int(max_file_mb * 1e6)
        )
    except DocumentsInputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    for target in targets:
        typer.echo(f"added {target}")


@documents_app.command("partitions")
def documents_partitions() -> None:
    """Add a `projects` partition for every project folder to $DAGSTER_HOME's instance."""
    import dagster as dg

    from lexi_pipelines.documents.partitions import PROJECTS
    from lexi_pipelines.documents.projects import discover_projects

    projects = discover_projects(get_settings().storage_path)
    with dg.DagsterInstance.get() as instance:
        known = set(instance.get_dynamic_partitions(PROJECTS))
        new = [p for p in projects if p not in known]
        instance.add_dynamic_partitions(PROJECTS, new)
    typer.echo(f"{len(projects)} project folders; added partitions: {', '.join(new) or 'none'}")


@documents_app.command("status")
def documents_status(project: str) -> None:
    """Counts per status and the failed documents of a project."""
    from lexi_pipelines.db.engine import ensure_schema, make_engine
    from lexi_pipelines.documents.queries import failed_documents, status_counts

    engine = make_engine(get_settings().database_url)
    ensure_schema(engine)
    counts = status_counts(engine, project)
    if not counts:
        typer.echo(f"{project}: no documents registered")
    for status, count in sorted(counts.items()):
        typer.echo(f"{status:<10} {count}")
    for row in failed_documents(engine, project):
        typer.echo(f"FAILED {row['relative_path']}: {row['error']}")
    engine.dispose()


def _parse_where(pairs: list[str]) -> dict[str, str | list[str]]:
    where: dict[str, str | list[str]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{pair!r}: use field=value (or field=a,b for any of)")
        where[key] = value.split(",") if "," in value else value
    return where


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for, in plain words")],
    project: Annotated[str | None, typer.Option(help="Search this project's chunks")] = None,
    ingestor: Annotated[str | None, typer.Option(help="Search this ingestor's products")] = None,
    k: Annotated[int, typer.Option("--k", "-k", help="How many results")] = 10,
    hybrid: Annotated[bool, typer.Option(help="Add keyword (BM25 / full-text) relevance")] = False,
    alpha: Annotated[float, typer.Option(help="Hybrid weight of the dense side, 0..1")] = 0.5,
    where: Annotated[
        list[str] | None, typer.Option(help="Metadata filter field=value; repeatable")
    ] = None,
) -> None:
    """Semantic search over product or chunk vectors, ranked with scores and metadata."""
    from lexi_pipelines.vectors.search import EmptyNamespaceError, search_catalog_or_project

    try:
        matches = search_catalog_or_project(
            query,
            project=project,
            ingestor=ingestor,
            k=k,
            hybrid=hybrid,
            alpha=alpha,
            where=_parse_where(where or []),
        )
    except EmptyNamespaceError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    for rank, match in enumerate(matches, 1):
        meta = dict(match.metadata)
        title = meta.pop("name", None) or meta.pop("path", None) or match.id
        typer.echo(f"{rank:>2}. {match.score:.4f}  {title}  [{match.id}]")
        snippet = meta.pop("snippet", None)
        if snippet:
            typer.echo(f"      {' '.join(str(snippet).split())[:160]}")
        details = ", ".join(f"{key}={value}" for key, value in sorted(meta.items()))
        typer.echo(f"      {details}")
    if not matches:
        typer.echo("no matches")


def _dagster_home(lexi_home: Path) -> Path:
    home = Path(os.environ.get("DAGSTER_HOME") or lexi_home / "dagster")
    home.mkdir(parents=True, exist_ok=True)
    instance_yaml = home / "dagster.yaml"
    if not instance_yaml.exists():
        # Embedded default: SQLite run/event storage under this folder, no daemon needed.
        instance_yaml.write_text("telemetry:\n  enabled: false\n")
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def _summarize(result: Any, partition: str) -> None:
    for event in result.get_asset_materialization_events():
        metadata = event.materialization.metadata
        counts = ", ".join(
            f"{k}={v.value}"
            for k, v in metadata.items()
            if isinstance(v.value, int | float)
            and not k.endswith(("_per_s", "duration_s"))
            and k not in ("workers",)
        )
        key = event.asset_key.to_user_string() if event.asset_key else event.step_key
        typer.echo(f"{partition} {key}: {counts}")
    checks = result.get_asset_check_evaluations()
    passed = sum(1 for c in checks if c.passed)
    failing = ", ".join(
        f"{c.check_name} ({c.severity.value.lower()})" for c in checks if not c.passed
    )
    typer.echo(
        f"{partition}: {passed}/{len(checks)} asset checks passed"
        + (f"; failing: {failing}" if failing else "")
        + "\n"
    )


def _copy_demo_evaluations(storage: Path) -> tuple[list[str], list[str]]:
    """Copy the demo use cases into storage/evaluations; their use cases and model keys."""
    from lexi_pipelines.evaluation.uploads import EVALUATIONS_DIR, find_uploads
    from lexi_pipelines.settings import DEMO_DATA_DIR

    target = storage / EVALUATIONS_DIR
    source = DEMO_DATA_DIR / EVALUATIONS_DIR
    shutil.copytree(source, target, dirs_exist_ok=True, copy_function=_copy_if_absent)
    uploads, _, _ = find_uploads(target)
    demo_cases = sorted(p.name for p in source.iterdir() if p.is_dir())
    return demo_cases, [u.key for u in uploads if u.use_case in demo_cases]


def _copy_demo_documents(storage: Path) -> list[str]:
    """Copy the shipped demo projects into storage, leaving files already there alone."""
    from lexi_pipelines.settings import DEMO_DATA_DIR

    projects = []
    for project_dir in sorted((DEMO_DATA_DIR / "documents").iterdir()):
        if not project_dir.is_dir():
            continue
        target = storage / project_dir.name
        shutil.copytree(project_dir, target, dirs_exist_ok=True, copy_function=_copy_if_absent)
        projects.append(project_dir.name)
    return projects


def _copy_if_absent(source: str, target: str) -> str:
    if not os.path.exists(target):
        shutil.copy2(source, target)
    return target


def _blocked_by_a_check(result: Any) -> bool:
    """A run stopped by a blocking check (e.g. a dataset failing QC) did its job: not a failure."""
    failures = [e for e in result.all_events if e.is_step_failure]
    return bool(failures) and all(
        e.step_failure_data.error.cls_name == "DagsterAssetCheckFailedError" for e in failures
    )


@app.command()
def demo() -> None:
    """Materialize the catalog for every demo ingestor and the demo documents project."""
    import dagster as dg

    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    warnings.filterwarnings("ignore", category=dg.PreviewWarning)
    settings = get_settings()
    dagster_home = _dagster_home(settings.home)
    from sqlalchemy import func, select

    from lexi_pipelines.db.engine import ensure_schema, make_engine
    from lexi_pipelines.db.models import Base
    from lexi_pipelines.definitions import defs
    from lexi_pipelines.documents.partitions import PROJECTS
    from lexi_pipelines.evaluation.partitions import EVALUATION_MODELS, EVALUATION_USE_CASES

    catalog_job = defs.resolve_job_def("catalog_ingest_job")
    documents_job = defs.resolve_job_def("documents_job")
    ingestors = (
        catalog_job.partitions_def.get_partition_keys() if catalog_job.partitions_def else []
    )
    typer.echo(f"database: {settings.database_url}")
    typer.echo(f"ingestion config: {settings.ingestion_config}")
    typer.echo(f"document storage: {settings.storage_path}")
    typer.echo(f"dagster instance: {dagster_home}\n")
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    failed = []
    with dg.DagsterInstance.get() as instance:
        runs = [(catalog_job, p) for p in ingestors]
        projects = _copy_demo_documents(settings.storage_path)
        instance.add_dynamic_partitions(PROJECTS, projects)
        runs += [(documents_job, p) for p in projects]
        use_cases, models = _copy_demo_evaluations(settings.storage_path)
        instance.add_dynamic_partitions(EVALUATION_MODELS, models)
        instance.add_dynamic_partitions(EVALUATION_USE_CASES, use_cases)
        runs += [(defs.resolve_job_def("evaluation_job"), key) for key in models]
        runs += [(defs.resolve_job_def("evaluation_leaderboard_job"), key) for key in use_cases]
        for job, partition in runs:
            result = job.execute_in_process(
                partition_key=partition, instance=instance, raise_on_error=False, run_config=quiet
            )
            if not result.success and not _blocked_by_a_check(result):
                failed.append(partition)
                typer.echo(f"{partition}: FAILED (run {result.run_id})", err=True)
                continue
            _summarize(result, partition)

    engine = make_engine(settings.database_url)
    ensure_schema(engine)
    with engine.connect() as conn:
        typer.echo("rows in the metadata database:")
        for table in Base.metadata.sorted_tables:
            count = conn.scalar(select(func.count()).select_from(table))
            typer.echo(f"  {table.name:<24} {count}")
    engine.dispose()
    typer.echo(
        "\nOpen the UI on these runs:\n"
        f"  DAGSTER_HOME={dagster_home} .venv/bin/dagster dev -w workspace.yaml\n"
        "then browse http://127.0.0.1:3000 (Assets > catalog, documents, vectors, evaluation).\n"
        'Search the vectors: .venv/bin/lexi search "rain jacket" --ingestor acme-outdoor\n'
        f"Drop files into {settings.storage_path}/<project>/documents/ while `dagster dev` runs:\n"
        "documents_inbox_sensor picks them up within a tick."
    )
    if failed:
        typer.echo(f"failed partitions: {', '.join(failed)}", err=True)
        raise typer.Exit(code=1)


def main() -> None:  # pragma: no cover - console entry point
    sys.exit(app())


if __name__ == "__main__":
    main()
