"""``lexi``: command line for set-up and the embedded demo.

The demo runs the catalog job for every ingestor on the embedded default (SQLite and local
files under ``LEXI_HOME``) and records the runs in a Dagster instance under
``LEXI_HOME/dagster`` so ``dagster dev`` shows them afterwards.
"""

import os
import sys
import warnings
from pathlib import Path

import typer

from lexi_pipelines.settings import get_settings

app = typer.Typer(help="Lexi Pipelines: catalog and document intelligence on Dagster.")
db_app = typer.Typer(help="Metadata database.")
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply the Alembic migrations to LEXI_DATABASE_URL."""
    from lexi_pipelines.db.engine import current_revision, make_engine, upgrade_schema

    settings = get_settings()
    engine = make_engine(settings.database_url)
    upgrade_schema(engine, revision)
    typer.echo(f"{engine.url.render_as_string(hide_password=True)}: at {current_revision(engine)}")


def _dagster_home(lexi_home: Path) -> Path:
    home = Path(os.environ.get("DAGSTER_HOME") or lexi_home / "dagster")
    home.mkdir(parents=True, exist_ok=True)
    instance_yaml = home / "dagster.yaml"
    if not instance_yaml.exists():
        # Embedded default: SQLite run/event storage under this folder, no daemon needed.
        instance_yaml.write_text("telemetry:\n  enabled: false\n")
    os.environ["DAGSTER_HOME"] = str(home)
    return home


@app.command()
def demo() -> None:
    """Materialize the catalog for every demo ingestor on the embedded default."""
    import dagster as dg

    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    warnings.filterwarnings("ignore", category=dg.PreviewWarning)
    settings = get_settings()
    dagster_home = _dagster_home(settings.home)
    from sqlalchemy import func, select

    from lexi_pipelines.db.engine import ensure_schema, make_engine
    from lexi_pipelines.db.models import Base
    from lexi_pipelines.definitions import defs

    job = defs.resolve_job_def("catalog_ingest_job")
    partitions = job.partitions_def.get_partition_keys() if job.partitions_def else []
    typer.echo(f"database: {settings.database_url}")
    typer.echo(f"ingestion config: {settings.ingestion_config}")
    typer.echo(f"dagster instance: {dagster_home}\n")
    failed = []
    with dg.DagsterInstance.get() as instance:
        for partition in partitions:
            result = job.execute_in_process(
                partition_key=partition,
                instance=instance,
                raise_on_error=False,
                run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
            )
            if not result.success:
                failed.append(partition)
                typer.echo(f"{partition}: FAILED (run {result.run_id})", err=True)
                continue
            for event in result.get_asset_materialization_events():
                metadata = event.materialization.metadata
                counts = ", ".join(
                    f"{k}={v.value}"
                    for k, v in metadata.items()
                    if (
                        k.startswith(("organizations_inserted", "products_", "groups_inserted"))
                        and k != "products_written_per_s"
                    )
                    or k in ("brands_written", "shards_total", "shards_skipped")
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
        "then browse http://127.0.0.1:3000 (Assets > catalog)."
    )
    if failed:
        typer.echo(f"failed partitions: {', '.join(failed)}", err=True)
        raise typer.Exit(code=1)


def main() -> None:  # pragma: no cover - console entry point
    sys.exit(app())


if __name__ == "__main__":
    main()
