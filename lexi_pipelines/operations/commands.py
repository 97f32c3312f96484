"""``lexi jobs ...`` and ``lexi health``: submit, follow and list runs on a running webserver.

Registered on the ``lexi`` app in ``cli.py``. Talks to Dagster only over GraphQL (so it works
from any machine that reaches the webserver); heavy imports happen inside the commands.

Exit codes: 0 success; 1 the run failed or was canceled, or a health check failed; 2 a bad
request (options, input file, unknown run id, run config refused); 3 the webserver could not
be reached or answered with an error; 130 following was stopped with Ctrl-C (the run goes on).
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, cast

import typer

from lexi_pipelines.operations.client import (
    DEFAULT_URL,
    RUN_STATUSES,
    URL_ENV,
    DagsterClient,
    DagsterClientError,
)
from lexi_pipelines.operations.submit import (
    FIELDS_PARTITIONS,
    PRIORITY_TAG,
    Submission,
    SubmissionError,
)

jobs_app = typer.Typer(
    help="Submit training and inference jobs to a running Dagster webserver; follow and list runs."
)
submit_app = typer.Typer(help="Submit a job; the daemon's run coordinator queues it.")
jobs_app.add_typer(submit_app, name="submit")

Url = Annotated[
    str,
    typer.Option("--url", envvar=URL_ENV, help="The Dagster webserver.", show_default=True),
]
Priority = Annotated[
    str | None,
    typer.Option(
        help="low, normal, high or urgent (dagster/priority -10, 0, 5, 10). Default: normal "
        "for training, high for inference."
    ),
]
Follow = Annotated[bool, typer.Option("--follow", "-f", help="Print progress until it ends.")]
Interval = Annotated[float, typer.Option(help="Seconds between polls with --follow.")]


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=code)


@contextmanager
def _client(url: str) -> Iterator[DagsterClient]:
    """A client whose errors become a message and the exit code of their kind."""
    client = DagsterClient(url)
    try:
        yield client
    except DagsterClientError as exc:
        raise _fail(str(exc), exc.exit_code) from exc
    finally:
        client.close()


def _checked_request(build: Callable[[], Submission]) -> Submission:
    from lexi_pipelines.classification.errors import ClassificationInputError
    from lexi_pipelines.classification.plugins import PluginError

    try:
        return build()
    except (SubmissionError, ClassificationInputError, PluginError) as exc:
        raise _fail(str(exc), 2) from exc


def _submit(url: str, submission: Submission, follow: bool, interval: float) -> None:
    with _client(url) as client:
        if submission.partition is not None and client.add_dynamic_partition(
            submission.job_name, FIELDS_PARTITIONS, submission.partition
        ):
            typer.echo(f"added partition {submission.partition!r}", err=True)
        run_id = client.launch_run(submission.job_name, submission.run_config, submission.tags)
        typer.echo(run_id)  # alone on stdout, for scripts: RUN=$(lexi jobs submit ...)
        details = ", ".join(f"{k}={v}" for k, v in submission.summary.items())
        typer.echo(
            f"submitted {submission.job_name} ({details}; priority "
            f"{submission.tags[PRIORITY_TAG]}); follow it with: lexi jobs status {run_id} -f",
            err=True,
        )
        if follow:
            _follow(client, run_id, interval)


def _follow(client: DagsterClient, run_id: str, interval: float) -> None:
    from lexi_pipelines.operations.watch import exit_code, show_run

    try:
        run = show_run(client, run_id, typer.echo, follow=True, interval=interval)
    except KeyboardInterrupt:
        typer.echo(f"stopped following; the run goes on: lexi jobs status {run_id} -f", err=True)
        raise typer.Exit(code=130) from None
    raise typer.Exit(code=exit_code(run.status))


@submit_app.command("training")
def submit_training(
    project: Annotated[str, typer.Option(help="Project (its folder under storage).")],
    field: Annotated[str, typer.Option(help="Label field, e.g. default.")] = "default",
    plugins: Annotated[
        list[str] | None,
        typer.Option(help="kind=name[,kind=name]: tokenizer, features, classifier."),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(help="kind.name=value plugin parameter (JSON value); repeatable."),
    ] = None,
    priority: Priority = None,
    follow: Follow = False,
    interval: Interval = 1.0,
    url: Url = DEFAULT_URL,
) -> None:
    """Train, evaluate and (if it passes) predict with a new model of PROJECT/FIELD.

    Prints the run id. The `fields` partition PROJECT/FIELD is added when missing."""

    def build() -> Submission:
        from lexi_pipelines.classification.inference import validate_target
        from lexi_pipelines.classification.pipeline import PipelineConfig
        from lexi_pipelines.classification.plugins import Kind, registry
        from lexi_pipelines.operations.submit import (
            parse_params,
            parse_plugins,
            training_submission,
        )

        validate_target(project, field)
        chosen, params = parse_plugins(plugins or []), parse_params(param or [])
        # Names and parameters are checked here for a fast answer; whether an optional
        # package is installed is the run worker's question, answered by the run.
        for kind in ("tokenizer", "features", "classifier"):
            if kind in chosen or kind in params:
                name = chosen.get(kind, getattr(PipelineConfig(), kind))
                registry.get(cast(Kind, kind), name).resolve_params(params.get(kind))
        return training_submission(project, field, plugins=chosen, params=params, priority=priority)

    _submit(url, _checked_request(build), follow, interval)


@submit_app.command("inference")
def submit_inference(
    project: Annotated[str, typer.Option(help="Project whose model predicts.")],
    field: Annotated[str, typer.Option(help="Label field, e.g. default.")] = "default",
    text: Annotated[
        list[str] | None, typer.Option(help="A text to label (ids text-1, ...); repeatable.")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            help='JSONL, lines {"id": ..., "text": ...}; the run worker reads the same path.'
        ),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            help="Predictions file inside storage (default "
            "{storage}/{project}/predictions/{field}/inference/{run_id}.jsonl)."
        ),
    ] = None,
    priority: Priority = None,
    follow: Follow = False,
    interval: Interval = 1.0,
    url: Url = DEFAULT_URL,
) -> None:
    """Label texts with the latest model of PROJECT/FIELD that passed evaluation.

    Prints the run id; the predictions file is in the run's output metadata."""

    def build() -> Submission:
        from lexi_pipelines.classification.inference import (
            gather_items,
            validate_target,
        )
        from lexi_pipelines.operations.submit import inference_submission

        validate_target(project, field)
        # The same reader the run uses: a bad line fails here, before anything is queued.
        gather_items(text or [], file)
        return inference_submission(
            project, field, texts=text, file=file, output=output, priority=priority
        )

    _submit(url, _checked_request(build), follow, interval)


@jobs_app.command("status")
def jobs_status(
    run_id: Annotated[str, typer.Argument(help="The run id printed by submit.")],
    follow: Follow = False,
    interval: Interval = 1.0,
    lines: Annotated[
        int, typer.Option(min=0, help="Progress lines to show without --follow.")
    ] = 20,
    url: Url = DEFAULT_URL,
) -> None:
    """A run's status and progress lines; exits 0 on success (or still running), 1 on
    failure or cancellation."""
    from lexi_pipelines.operations.watch import exit_code, show_run

    with _client(url) as client:
        if follow:
            _follow(client, run_id, interval)
        run = show_run(client, run_id, typer.echo, last_lines=lines)
    raise typer.Exit(code=exit_code(run.status))


@jobs_app.command("list")
def jobs_list(
    status: Annotated[
        list[str] | None,
        typer.Option(help=f"Only runs in this status ({', '.join(RUN_STATUSES)}); repeatable."),
    ] = None,
    job: Annotated[str | None, typer.Option(help="Only runs of this job.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 20,
    url: Url = DEFAULT_URL,
) -> None:
    """Recent runs: id, job, status, queue lane, priority, partition or field, times."""
    from lexi_pipelines.operations.watch import LIST_HEADER, run_row

    statuses = [s.upper() for s in status or []]
    if unknown := [s for s in statuses if s not in RUN_STATUSES]:
        raise _fail(f"--status {', '.join(unknown)}: choose from {', '.join(RUN_STATUSES)}", 2)
    with _client(url) as client:
        runs = client.runs(statuses=statuses, job_name=job, limit=limit)
    if not runs:
        typer.echo("no runs")
        return
    typer.echo(LIST_HEADER)
    for run in runs:
        typer.echo(run_row(run))


def health(url: Url = DEFAULT_URL) -> None:
    """Webserver, daemons, metadata database, storage and model files: one line each;
    exits 1 if any check fails."""
    from lexi_pipelines.operations.health import (
        database_check,
        model_checks,
        storage_check,
        webserver_checks,
    )
    from lexi_pipelines.settings import get_settings

    settings = get_settings()
    client = DagsterClient(url)
    try:
        checks = webserver_checks(client)
    finally:
        client.close()
    checks.append(database_check(settings.database_url))
    checks.append(storage_check(settings.storage_path))
    checks.extend(model_checks(settings.database_url, settings.storage_path))
    for check in checks:
        typer.echo(check.line())
    failed = sum(not c.ok for c in checks)
    typer.echo(f"{len(checks) - failed}/{len(checks)} checks passed")
    if failed:
        raise typer.Exit(code=1)
