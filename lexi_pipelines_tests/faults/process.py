"""Starting, watching and killing a materialization in its own process group."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from lexi_pipelines_tests.conftest import REPO_ROOT

T = TypeVar("T")


@dataclass(frozen=True)
class RunEnvironment:
    """A LEXI_HOME with its storage, a database and a Dagster instance folder of its own."""

    home: Path
    database_url: str
    ingestion_config: Path | None = None

    @property
    def storage(self) -> Path:
        return self.home / "storage"

    def variables(self) -> dict[str, str]:
        env = {
            **os.environ,
            "LEXI_HOME": str(self.home),
            "LEXI_DATABASE_URL": self.database_url,
            "LEXI_STORAGE_PATH": str(self.storage),
            "LEXI_VECTOR_PATH": str(self.home / "vectors"),
            "DAGSTER_HOME": str(self.home / "dagster"),
            "LEXI_FAULT_MARKER": str(self.home / "paused"),
        }
        if self.ingestion_config is not None:
            env["LEXI_INGESTION_CONFIG"] = str(self.ingestion_config)
        return env


class Run:
    """``python -m lexi_pipelines_tests.faults.runner`` as the leader of a new process group."""

    def __init__(self, env: RunEnvironment, target: str, partition: str, pause: str | None = None):
        (env.home / "dagster").mkdir(parents=True, exist_ok=True)
        self.env = env
        self.log = env.home / f"run-{target}-{time.monotonic_ns()}.log"
        command = [sys.executable, "-m", "lexi_pipelines_tests.faults.runner", target, partition]
        if pause:
            command += ["--pause", pause]
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env=env.variables(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # kill the run with its pool workers, as an OOM kill does
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def running(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group: no handler, no finally, no atexit runs."""
        with contextlib.suppress(ProcessLookupError):  # already gone
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def summary(self, timeout: float = 240) -> dict[str, Any]:
        """Wait for the end and return the runner's JSON summary line."""
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            self.kill()
            message = f"run did not finish in {timeout}s:\n{self.output()[-3000:]}"
            raise AssertionError(message) from exc
        lines = [line for line in self.output().splitlines() if line.startswith('{"success"')]
        assert lines, f"runner exited {self.process.returncode}:\n{self.output()[-3000:]}"
        summary: dict[str, Any] = json.loads(lines[-1])
        return summary


def wait_for(
    probe: Callable[[], T | None], run: Run, what: str, timeout: float = 120, every: float = 0.02
) -> T:
    """Poll ``probe`` until it returns something truthy; fail if the run ends first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        if not run.running():
            raise AssertionError(f"the run ended before {what}:\n{run.output()[-3000:]}")
        time.sleep(every)
    run.kill()
    raise AssertionError(f"timed out waiting for {what}:\n{run.output()[-3000:]}")
