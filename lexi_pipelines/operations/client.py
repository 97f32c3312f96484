"""A thin client of the Dagster webserver's GraphQL API (httpx; no Dagster import).

It speaks only the few queries the ``lexi`` CLI needs: launch a run, read runs and their
events, add a dynamic partition, read daemon heartbeats. Every failure becomes a
``DagsterClientError`` whose message says what went wrong in words a user can act on.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

import httpx

DEFAULT_URL = "http://127.0.0.1:3000"
URL_ENV = "LEXI_DAGSTER_URL"
TERMINAL_STATUSES = frozenset({"SUCCESS", "FAILURE", "CANCELED"})
RUN_STATUSES = (
    "QUEUED",
    "NOT_STARTED",
    "STARTING",
    "STARTED",
    "SUCCESS",
    "FAILURE",
    "CANCELING",
    "CANCELED",
)


def default_url() -> str:
    return os.environ.get(URL_ENV) or DEFAULT_URL


class DagsterClientError(Exception):
    """Base of every client error; ``exit_code`` is what the CLI exits with."""

    exit_code = 3


class WebserverUnreachableError(DagsterClientError):
    pass


class GraphQLError(DagsterClientError):
    pass


class RunNotFoundError(DagsterClientError):
    exit_code = 2


class LaunchError(DagsterClientError):
    """The webserver refused the submission (bad config, unknown job, ...)."""

    exit_code = 2


@dataclass(frozen=True)
class Repository:
    location: str
    name: str

    def selector(self) -> dict[str, str]:
        return {"repositoryLocationName": self.location, "repositoryName": self.name}


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    job_name: str
    status: str
    tags: dict[str, str]
    created: float
    started: float | None = None
    ended: float | None = None

    @property
    def is_done(self) -> bool:
        return self.status in TERMINAL_STATUSES


@dataclass(frozen=True)
class RunEvent:
    timestamp: float  # seconds since the epoch
    event_type: str
    level: str
    message: str
    step_key: str | None = None
    error: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    check: tuple[str, bool] | None = None  # (check name, passed)
    asset: str | None = None  # the materialized asset key, as a/b


@dataclass(frozen=True)
class DaemonStatus:
    daemon_type: str
    required: bool
    healthy: bool | None
    last_heartbeat: float | None
    errors: tuple[str, ...] = ()


RUN_FIELDS = """
fragment RunFields on Run {
  runId jobName status creationTime startTime endTime
  tags { key value }
}
"""

METADATA_FIELDS = """
fragment MetadataFields on MetadataEntry {
  __typename label
  ... on TextMetadataEntry { text }
  ... on IntMetadataEntry { intRepr }
  ... on FloatMetadataEntry { floatRepr }
  ... on BoolMetadataEntry { boolValue }
  ... on PathMetadataEntry { path }
  ... on UrlMetadataEntry { url }
  ... on JsonMetadataEntry { jsonString }
}
"""

WORKSPACE_QUERY = """
query LexiWorkspace {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        locationOrLoadError {
          __typename
          ... on RepositoryLocation { name repositories { name jobs { name } } }
          ... on PythonError { message }
        }
      }
    }
    ... on PythonError { message }
  }
}
"""

LAUNCH_MUTATION = """
mutation LexiLaunchRun($executionParams: ExecutionParams!) {
  launchRun(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on RunConfigValidationInvalid {
      errors {
        __typename message path reason
        ... on FieldNotDefinedConfigError { fieldName }
        ... on FieldsNotDefinedConfigError { fieldNames }
      }
    }
    ... on InvalidStepError { invalidStepKey }
    ... on InvalidOutputError { stepKey invalidOutputName }
    ... on Error { message }
  }
}
"""

ADD_PARTITION_MUTATION = """
mutation LexiAddPartition(
  $repositorySelector: RepositorySelector!, $partitionsDefName: String!, $partitionKey: String!
) {
  addDynamicPartition(
    repositorySelector: $repositorySelector
    partitionsDefName: $partitionsDefName
    partitionKey: $partitionKey
  ) {
    __typename
    ... on AddDynamicPartitionSuccess { partitionKey }
    ... on Error { message }
  }
}
"""

RUN_QUERY = (
    """
query LexiRun($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { ...RunFields }
    ... on Error { message }
  }
}
"""
    + RUN_FIELDS
)

RUNS_QUERY = (
    """
query LexiRuns($filter: RunsFilter, $limit: Int) {
  runsOrError(filter: $filter, limit: $limit) {
    __typename
    ... on Runs { results { ...RunFields } }
    ... on Error { message }
  }
}
"""
    + RUN_FIELDS
)

EVENTS_QUERY = (
    """
query LexiRunEvents($runId: ID!, $cursor: String, $limit: Int) {
  logsForRun(runId: $runId, afterCursor: $cursor, limit: $limit) {
    __typename
    ... on EventConnection {
      cursor hasMore
      events {
        __typename
        ... on MessageEvent { message timestamp level stepKey eventType }
        ... on ErrorEvent { error { message className } }
        ... on DisplayableEvent { metadataEntries { ...MetadataFields } }
        ... on AssetCheckEvaluationEvent { evaluation { checkName success } }
        ... on MaterializationEvent { assetKey { path } }
      }
    }
    ... on Error { message }
  }
}
"""
    + METADATA_FIELDS
)

HEALTH_QUERY = """
query LexiHealth {
  version
  instance {
    daemonHealth {
      allDaemonStatuses {
        daemonType required healthy lastHeartbeatTime
        lastHeartbeatErrors { message }
      }
    }
  }
}
"""

ALL_OPERATIONS = (
    WORKSPACE_QUERY,
    LAUNCH_MUTATION,
    ADD_PARTITION_MUTATION,
    RUN_QUERY,
    RUNS_QUERY,
    EVENTS_QUERY,
    HEALTH_QUERY,
)


class DagsterClient:
    def __init__(self, url: str | None = None, *, timeout: float = 30.0):
        self.url = (url or default_url()).rstrip("/")
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)), trust_env=False
        )
        self._repositories: dict[str, Repository] = {}

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DagsterClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ transport

    def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The ``data`` of one GraphQL request; raises on transport and GraphQL errors."""
        endpoint = f"{self.url}/graphql"
        try:
            response = self._http.post(
                endpoint, json={"query": query, "variables": variables or {}}
            )
        except httpx.TimeoutException as exc:
            raise WebserverUnreachableError(
                f"the Dagster webserver at {self.url} did not answer in time ({exc})"
            ) from exc
        except httpx.HTTPError as exc:
            raise WebserverUnreachableError(
                f"cannot reach the Dagster webserver at {self.url}: {exc or type(exc).__name__} "
                f"(start it with `dagster dev` or set --url / {URL_ENV})"
            ) from exc
        try:
            body = response.json()
        except json.JSONDecodeError:
            body = None
        if not isinstance(body, dict) or ("data" not in body and "errors" not in body):
            raise GraphQLError(
                f"{endpoint} answered HTTP {response.status_code} without a GraphQL body: "
                "is --url a Dagster webserver?"
            )
        if body.get("errors"):
            messages = "; ".join(str(e.get("message", e)) for e in body["errors"])
            raise GraphQLError(f"GraphQL error from {self.url}: {messages}")
        data = body.get("data")
        if not isinstance(data, dict):
            raise GraphQLError(f"{endpoint} answered HTTP {response.status_code} with no data")
        return data

    # ------------------------------------------------------------------ workspace

    def repository_for(self, job_name: str) -> Repository:
        """The code location and repository that define ``job_name``."""
        if job_name in self._repositories:
            return self._repositories[job_name]
        result = self.execute(WORKSPACE_QUERY)["workspaceOrError"]
        if result["__typename"] != "Workspace":
            raise GraphQLError(f"the workspace did not load: {result.get('message')}")
        broken: list[str] = []
        names: list[str] = []
        for entry in result["locationEntries"]:
            location = entry.get("locationOrLoadError") or {}
            if location.get("__typename") == "PythonError":
                broken.append(f"{entry['name']}: {_first_line(location.get('message'))}")
                continue
            names.append(entry["name"])
            for repo in location.get("repositories", []):
                for job in repo["jobs"]:
                    self._repositories.setdefault(
                        job["name"], Repository(location["name"], repo["name"])
                    )
        if job_name in self._repositories:
            return self._repositories[job_name]
        detail = f"; code locations that failed to load: {'; '.join(broken)}" if broken else ""
        raise LaunchError(
            f"job {job_name!r} is not defined in any code location at {self.url} "
            f"(loaded: {', '.join(names) or 'none'}){detail}"
        )

    def add_dynamic_partition(self, job_name: str, partitions_def: str, key: str) -> bool:
        """Add ``key`` to a dynamic partitions definition; False when it was already there."""
        result = self.execute(
            ADD_PARTITION_MUTATION,
            {
                "repositorySelector": self.repository_for(job_name).selector(),
                "partitionsDefName": partitions_def,
                "partitionKey": key,
            },
        )["addDynamicPartition"]
        kind = result["__typename"]
        if kind == "AddDynamicPartitionSuccess":
            return True
        if kind == "DuplicateDynamicPartitionError":
            return False
        raise LaunchError(
            f"adding partition {key!r} to {partitions_def!r}: {result.get('message')}"
        )

    # ------------------------------------------------------------------ runs

    def launch_run(self, job_name: str, run_config: dict[str, Any], tags: dict[str, str]) -> str:
        """Submit a run (queued by the run coordinator); returns its id."""
        params = {
            "selector": {**self.repository_for(job_name).selector(), "jobName": job_name},
            "runConfigData": run_config,
            "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
        }
        result = self.execute(LAUNCH_MUTATION, {"executionParams": params})["launchRun"]
        kind = result["__typename"]
        if kind == "LaunchRunSuccess":
            return str(result["run"]["runId"])
        if kind == "RunConfigValidationInvalid":
            problems = "; ".join(_config_error(e) for e in result["errors"])
            raise LaunchError(f"{job_name}: invalid run config: {problems}")
        if kind == "InvalidStepError":
            raise LaunchError(f"{job_name}: invalid step {result['invalidStepKey']!r}")
        if kind == "InvalidOutputError":
            raise LaunchError(
                f"{job_name}: invalid output {result['invalidOutputName']!r} "
                f"of step {result['stepKey']!r}"
            )
        raise LaunchError(f"{job_name}: {kind}: {_first_line(result.get('message'))}")

    def run(self, run_id: str) -> RunInfo:
        result = self.execute(RUN_QUERY, {"runId": run_id})["runOrError"]
        if result["__typename"] == "RunNotFoundError":
            raise RunNotFoundError(f"run {run_id} not found at {self.url}")
        if result["__typename"] != "Run":
            raise GraphQLError(f"run {run_id}: {_first_line(result.get('message'))}")
        return _run_info(result)

    def runs(
        self,
        *,
        statuses: list[str] | None = None,
        job_name: str | None = None,
        tags: dict[str, str] | None = None,
        limit: int = 20,
    ) -> list[RunInfo]:
        """Most recent first."""
        run_filter: dict[str, Any] = {}
        if statuses:
            run_filter["statuses"] = [s.upper() for s in statuses]
        if job_name:
            run_filter["pipelineName"] = job_name
        if tags:
            run_filter["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
        result = self.execute(RUNS_QUERY, {"filter": run_filter, "limit": limit})["runsOrError"]
        if result["__typename"] != "Runs":
            raise GraphQLError(f"listing runs: {_first_line(result.get('message'))}")
        return [_run_info(r) for r in result["results"]]

    def events(
        self, run_id: str, cursor: str | None = None, limit: int = 500
    ) -> tuple[list[RunEvent], str | None, bool]:
        """Events after ``cursor``: (events, new cursor, whether more are waiting)."""
        result = self.execute(EVENTS_QUERY, {"runId": run_id, "cursor": cursor, "limit": limit})[
            "logsForRun"
        ]
        if result["__typename"] == "RunNotFoundError":
            raise RunNotFoundError(f"run {run_id} not found at {self.url}")
        if result["__typename"] != "EventConnection":
            raise GraphQLError(f"events of run {run_id}: {_first_line(result.get('message'))}")
        events = [_run_event(e) for e in result["events"]]
        return events, result.get("cursor") or cursor, bool(result.get("hasMore"))

    # ------------------------------------------------------------------ instance

    def health(self) -> tuple[str, list[DaemonStatus]]:
        """The webserver's Dagster version and every daemon's heartbeat status."""
        data = self.execute(HEALTH_QUERY)
        statuses = [
            DaemonStatus(
                daemon_type=d["daemonType"],
                required=bool(d["required"]),
                healthy=d.get("healthy"),
                last_heartbeat=d.get("lastHeartbeatTime"),
                errors=tuple(_first_line(e.get("message")) for e in d["lastHeartbeatErrors"]),
            )
            for d in data["instance"]["daemonHealth"]["allDaemonStatuses"]
        ]
        return str(data["version"]), statuses


def _first_line(message: object) -> str:
    text = str(message or "no message").strip()
    return text.splitlines()[0] if text else "no message"


def _config_error(error: dict[str, Any]) -> str:
    where = ".".join(error.get("path") or []) or "root"
    names = error.get("fieldNames") or ([error["fieldName"]] if error.get("fieldName") else [])
    extra = f" (keys: {', '.join(names)})" if names else ""
    return f"at {where}: {error['message']}{extra}"


def _run_info(data: dict[str, Any]) -> RunInfo:
    return RunInfo(
        run_id=data["runId"],
        job_name=data["jobName"],
        status=data["status"],
        tags={t["key"]: t["value"] for t in data.get("tags", [])},
        created=float(data["creationTime"]),
        started=data.get("startTime"),
        ended=data.get("endTime"),
    )


def _metadata_value(entry: dict[str, Any]) -> str:
    for key in ("text", "intRepr", "floatRepr", "path", "url", "jsonString"):
        if entry.get(key) is not None:
            return str(entry[key])
    if entry.get("boolValue") is not None:
        return str(entry["boolValue"]).lower()
    return f"<{entry['__typename'].removesuffix('MetadataEntry').lower()}>"


_LOG_TYPES = {"LogMessageEvent": "LOG_MESSAGE"}


def _run_event(data: dict[str, Any]) -> RunEvent:
    error = data.get("error") or None
    evaluation = data.get("evaluation")
    return RunEvent(
        timestamp=int(data.get("timestamp") or 0) / 1000,
        # Plain log lines (context.log) carry no Dagster event type.
        event_type=str(data.get("eventType") or _LOG_TYPES.get(data["__typename"], "OTHER")),
        level=str(data.get("level") or "INFO"),
        message=str(data.get("message") or ""),
        step_key=data.get("stepKey"),
        error=f"{error.get('className') or 'Error'}: {error['message'].strip()}" if error else None,
        metadata={e["label"]: _metadata_value(e) for e in data.get("metadataEntries") or []},
        check=(evaluation["checkName"], bool(evaluation["success"])) if evaluation else None,
        asset="/".join(data["assetKey"]["path"]) if data.get("assetKey") else None,
    )
