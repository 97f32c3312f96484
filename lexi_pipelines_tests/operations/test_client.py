"""The GraphQL client against Dagster's schema and against a loopback HTTP server answering
with GraphQL payloads in the webserver's format; submissions and progress lines (pure)."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from graphql import parse, validate

from lexi_pipelines.operations.client import (
    ALL_OPERATIONS,
    DagsterClient,
    GraphQLError,
    LaunchError,
    RunEvent,
    RunNotFoundError,
    WebserverUnreachableError,
)
from lexi_pipelines.operations.submit import (
    INFERENCE_JOB,
    TRAINING_JOB,
    SubmissionError,
    inference_submission,
    parse_params,
    parse_plugins,
    training_submission,
)
from lexi_pipelines.operations.watch import EventLines, exit_code, show_run
from lexi_pipelines_tests.operations.ports import free_port

Reply = tuple[int, Any]  # HTTP status, JSON body (or raw text)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        self.server.requests.append(json.loads(self.rfile.read(length)))
        status, body = self.server.replies.pop(0) if self.server.replies else (500, "no reply")
        raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header(
            "Content-Type", "application/json" if not isinstance(body, str) else "text/html"
        )
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *_args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    def __init__(self, port: int):
        super().__init__(("127.0.0.1", port), _Handler)
        self.replies: list[Reply] = []
        self.requests: list[dict[str, Any]] = []


@pytest.fixture
def server() -> Iterator[_Server]:
    httpd = _Server(free_port())
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def client(server: _Server) -> Iterator[DagsterClient]:
    with DagsterClient(f"http://127.0.0.1:{server.server_address[1]}/", timeout=5) as c:
        yield c


def _data(**fields: Any) -> Reply:
    return 200, {"data": fields}


WORKSPACE = _data(
    workspaceOrError={
        "__typename": "Workspace",
        "locationEntries": [
            {
                "name": "lexi_pipelines",
                "locationOrLoadError": {
                    "__typename": "RepositoryLocation",
                    "name": "lexi_pipelines",
                    "repositories": [
                        {
                            "name": "__repository__",
                            "jobs": [{"name": TRAINING_JOB}, {"name": INFERENCE_JOB}],
                        }
                    ],
                },
            }
        ],
    }
)


def _run(status: str, **extra: Any) -> dict[str, Any]:
    return {
        "__typename": "Run",
        "runId": "r1",
        "jobName": INFERENCE_JOB,
        "status": status,
        "creationTime": 1700000000.0,
        "startTime": 1700000001.0,
        "endTime": 1700000003.5 if status == "SUCCESS" else None,
        "tags": [{"key": "lexi/queue", "value": "prediction"}],
        **extra,
    }


def _log(
    message: str, ts_ms: int, level: str = "INFO", step: str | None = "classify_texts"
) -> dict[str, Any]:
    return {
        "__typename": "LogMessageEvent",
        "message": message,
        "timestamp": str(ts_ms),
        "level": level,
        "stepKey": step,
        "eventType": None,
    }


def test_every_operation_is_valid_against_dagsters_graphql_schema() -> None:
    from dagster_graphql.schema import create_schema

    schema = create_schema().graphql_schema
    for operation in ALL_OPERATIONS:
        assert validate(schema, parse(operation)) == [], operation


def test_unreachable_webserver_says_how_to_fix_it() -> None:
    port = free_port()  # nothing listens there
    with (
        DagsterClient(f"http://127.0.0.1:{port}") as client,
        pytest.raises(WebserverUnreachableError) as caught,
    ):
        client.run("r1")
    message = str(caught.value)
    assert f"cannot reach the Dagster webserver at http://127.0.0.1:{port}" in message
    assert "dagster dev" in message and "--url" in message
    assert caught.value.exit_code == 3


def test_unknown_run_id(server: _Server, client: DagsterClient) -> None:
    server.replies = [
        _data(
            runOrError={"__typename": "RunNotFoundError", "message": "Run abc could not be found."}
        )
    ]
    with pytest.raises(RunNotFoundError, match="run abc not found") as caught:
        client.run("abc")
    assert caught.value.exit_code == 2
    assert server.requests[0]["variables"] == {"runId": "abc"}


def test_invalid_run_config_lists_the_bad_keys(server: _Server, client: DagsterClient) -> None:
    server.replies = [
        WORKSPACE,
        _data(
            launchRun={
                "__typename": "RunConfigValidationInvalid",
                "errors": [
                    {
                        "__typename": "FieldNotDefinedConfigError",
                        "message": 'Received unexpected config entry "bogus" at path '
                        "root:ops:classify_texts:config.",
                        "path": ["ops", "classify_texts", "config"],
                        "reason": "FIELD_NOT_DEFINED",
                        "fieldName": "bogus",
                    }
                ],
            }
        ),
    ]
    with pytest.raises(LaunchError) as caught:
        client.launch_run(INFERENCE_JOB, {"ops": {"classify_texts": {"config": {"bogus": 1}}}}, {})
    assert "invalid run config: at ops.classify_texts.config" in str(caught.value)
    assert "(keys: bogus)" in str(caught.value)


def test_launch_sends_selector_config_and_tags(server: _Server, client: DagsterClient) -> None:
    server.replies = [
        WORKSPACE,
        _data(
            launchRun={"__typename": "LaunchRunSuccess", "run": {"runId": "r9", "status": "QUEUED"}}
        ),
        _data(addDynamicPartition={"__typename": "DuplicateDynamicPartitionError", "message": "x"}),
    ]
    assert client.launch_run(TRAINING_JOB, {"ops": {}}, {"dagster/priority": "5"}) == "r9"
    params = server.requests[1]["variables"]["executionParams"]
    assert params == {
        "selector": {
            "repositoryLocationName": "lexi_pipelines",
            "repositoryName": "__repository__",
            "jobName": TRAINING_JOB,
        },
        "runConfigData": {"ops": {}},
        "executionMetadata": {"tags": [{"key": "dagster/priority", "value": "5"}]},
    }
    # The workspace is read once; a partition that exists already is not an error.
    assert client.add_dynamic_partition(TRAINING_JOB, "fields", "news/default") is False
    assert len(server.requests) == 3
    assert server.requests[2]["variables"]["partitionKey"] == "news/default"


def test_graphql_errors_and_foreign_endpoints_are_explained(
    server: _Server, client: DagsterClient
) -> None:
    server.replies = [
        (400, {"errors": [{"message": "Cannot query field 'nope' on type 'Query'."}]}),
        (404, "<html>Not Found</html>"),
    ]
    with pytest.raises(GraphQLError, match="Cannot query field 'nope'"):
        client.run("r1")
    with pytest.raises(GraphQLError, match="is --url a Dagster webserver"):
        client.run("r1")


def test_a_location_that_failed_to_load_is_named(server: _Server, client: DagsterClient) -> None:
    server.replies = [
        _data(
            workspaceOrError={
                "__typename": "Workspace",
                "locationEntries": [
                    {
                        "name": "lexi_pipelines",
                        "locationOrLoadError": {
                            "__typename": "PythonError",
                            "message": "ModuleNotFoundError: No module named 'x'\nstack...",
                        },
                    }
                ],
            }
        )
    ]
    with pytest.raises(LaunchError) as caught:
        client.launch_run(TRAINING_JOB, {}, {})
    assert "lexi_pipelines: ModuleNotFoundError: No module named 'x'" in str(caught.value)
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(("last", "shown"), [(0, 0), (2, 2), (5, 3)])
def test_status_shows_only_the_last_lines(
    server: _Server, client: DagsterClient, last: int, shown: int
) -> None:
    events = [_log(f"line {n}", 1700000002000 + n) for n in range(3)]
    server.replies = [
        _data(runOrError=_run("STARTED")),
        _data(
            logsForRun={
                "__typename": "EventConnection",
                "cursor": "3",
                "hasMore": False,
                "events": events,
            }
        ),
    ]
    lines: list[str] = []
    show_run(client, "r1", lines.append, last_lines=last)
    progress = [line for line in lines[1:] if not line.startswith("...")]
    assert [line.rsplit(" ", 1)[1] for line in progress] == [str(n) for n in range(3)][3 - shown :]
    assert any(line.startswith(f"... {3 - shown} earlier") for line in lines) == (shown < 3)


def test_follow_prints_new_lines_until_the_run_ends(server: _Server, client: DagsterClient) -> None:
    output = {
        "__typename": "ExecutionStepOutputEvent",
        "message": 'Yielded output "result".',
        "timestamp": "1700000002500",
        "level": "DEBUG",
        "stepKey": "classify_texts",
        "eventType": "STEP_OUTPUT",
        "metadataEntries": [
            {"__typename": "IntMetadataEntry", "label": "count", "intRepr": "4"},
            {"__typename": "PathMetadataEntry", "label": "output", "path": "/s/x.jsonl"},
        ],
    }
    success = {
        "__typename": "RunSuccessEvent",
        "message": "Finished execution of run.",
        "timestamp": "1700000003500",
        "level": "DEBUG",
        "stepKey": None,
        "eventType": "RUN_SUCCESS",
    }
    server.replies = [
        _data(runOrError=_run("STARTED")),
        _data(
            logsForRun={
                "__typename": "EventConnection",
                "cursor": "1",
                "hasMore": True,
                "events": [_log("4 texts to label", 1700000002000)],
            }
        ),
        _data(
            logsForRun={
                "__typename": "EventConnection",
                "cursor": "2",
                "hasMore": False,
                "events": [_log("noise", 1700000002100, level="DEBUG")],
            }
        ),
        _data(runOrError=_run("SUCCESS")),
        _data(
            logsForRun={
                "__typename": "EventConnection",
                "cursor": "4",
                "hasMore": False,
                "events": [output, success],
            }
        ),
    ]
    lines: list[str] = []
    run = show_run(client, "r1", lines.append, follow=True, interval=0.01)
    assert run.status == "SUCCESS" and exit_code(run.status) == 0
    assert lines[0].startswith("run r1  classification_inference_job  STARTED  lane=prediction")
    assert [line.split("  ", 1)[1].strip() for line in lines[1:4]] == [
        "classify_texts                    4 texts to label",
        "classify_texts                    output: count=4, output=/s/x.jsonl",
        "run                               succeeded",
    ]
    assert lines[-1] == "run r1 SUCCESS after 2.5s"
    cursors = [r["variables"].get("cursor") for r in server.requests if "cursor" in r["variables"]]
    assert cursors == [None, "1", "2"]


def test_materialization_lines_only_add_what_the_output_line_did_not_show() -> None:
    lines = EventLines()
    event = functools.partial(RunEvent, timestamp=0.0, level="DEBUG", message="", step_key="s")
    output = event(event_type="STEP_OUTPUT", metadata={"version": "1", "classes": "4"})
    materialized = event(
        event_type="ASSET_MATERIALIZATION",
        metadata={"version": "1", "classes": "4", "path": "/m/v1"},
        asset="classification/field_model",
    )
    assert str(lines(output)).endswith(
        "s                                 output: version=1, classes=4"
    )
    assert str(lines(materialized)).endswith("materialized classification/field_model: path=/m/v1")
    failed = event(event_type="STEP_FAILURE", error="Failure: bad line\nstack")
    assert str(lines(failed)).endswith("failed: Failure: bad line")
    assert lines(event(event_type="ENGINE_EVENT")) is None
    assert lines(event(event_type="LOG_MESSAGE")) is None  # DEBUG lines are chatter
    assert exit_code("FAILURE") == 1 and exit_code("CANCELED") == 1 and exit_code("QUEUED") == 0


def test_plugins_and_params_options() -> None:
    assert parse_plugins(["tokenizer=icu, features=tfidf", "classifier=logreg"]) == {
        "tokenizer": "icu",
        "features": "tfidf",
        "classifier": "logreg",
    }
    assert parse_params(["classifier.C=0.5", "features.ngram_range=[1, 2]", "tokenizer.x=abc"]) == {
        "classifier": {"C": 0.5},
        "features": {"ngram_range": [1, 2]},
        "tokenizer": {"x": "abc"},
    }
    for bad in (["model=svm"], ["classifier"], ["classifier="]):
        with pytest.raises(SubmissionError, match="--plugins"):
            parse_plugins(bad)
    for bad in (["classifier=1"], ["model.C=1"]):
        with pytest.raises(SubmissionError, match="--param"):
            parse_params(bad)


def test_submissions_carry_lane_priority_and_submitter(tmp_path: Any) -> None:
    training = training_submission(
        "news", "default", plugins={"classifier": "logreg"}, params={"classifier": {"C": 2.0}}
    )
    assert training.job_name == TRAINING_JOB and training.partition == "news/default"
    assert training.run_config == {
        "ops": {
            "classification__field_model": {
                "config": {"classifier": "logreg", "classifier_params": {"C": 2.0}}
            }
        }
    }
    assert training.tags == {
        "lexi/queue": "training",
        "dagster/priority": "0",
        "lexi/submitted-by": "cli",
        "dagster/partition": "news/default",
    }
    assert training_submission("news", "default").run_config == {}
    inference = inference_submission("news", "default", texts=["a"], file=tmp_path / "t.jsonl")
    assert inference.tags["dagster/priority"] == "5"  # above training's default
    assert inference.tags["lexi/queue"] == "prediction"
    config = inference.run_config["ops"]["classify_texts"]["config"]
    assert config == {
        "project": "news",
        "field": "default",
        "texts": ["a"],
        "file": str((tmp_path / "t.jsonl").resolve()),
    }
    urgent = inference_submission("news", "default", texts=["a"], priority="urgent")
    assert urgent.tags["dagster/priority"] == "10"
    with pytest.raises(SubmissionError, match="choose one of low, normal, high, urgent"):
        training_submission("news", "default", priority="asap")
    with pytest.raises(SubmissionError, match="--text"):
        inference_submission("news", "default")


def test_submission_names_match_the_code_location() -> None:
    from lexi_pipelines.common.queues import QUEUE_TAG
    from lexi_pipelines.definitions import defs
    from lexi_pipelines.operations import submit

    training = defs.resolve_job_def(submit.TRAINING_JOB)
    assert training.partitions_def is not None
    assert getattr(training.partitions_def, "name", None) == submit.FIELDS_PARTITIONS
    assert training.graph.has_node_named(submit.TRAINING_OP)
    inference = defs.resolve_job_def(submit.INFERENCE_JOB)
    assert inference.graph.has_node_named(submit.INFERENCE_OP)
    assert inference.tags[QUEUE_TAG] == "prediction"
    assert training.tags[QUEUE_TAG] == "training"
