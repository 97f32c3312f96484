"""``lexi health``: the checks behind it, each giving one line (ok or failing, and why).

The webserver and daemon checks ask the webserver; database, storage and model checks look
at this machine's ``LEXI_*`` settings, so run it where the run workers run.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from lexi_pipelines.classification.artifacts import MANIFEST_FILE, ModelStore, artifact_problems
from lexi_pipelines.db.engine import current_revision, head_revision, make_engine
from lexi_pipelines.db.models import ClassifierModel, table_of
from lexi_pipelines.operations.client import DagsterClient, DagsterClientError

MODELS = table_of(ClassifierModel)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok' if self.ok else 'FAIL':<5} {self.name:<30} {self.detail}"


def webserver_checks(client: DagsterClient) -> list[Check]:
    """The webserver answers, and every daemon this instance requires has a fresh heartbeat."""
    try:
        version, daemons = client.health()
    except DagsterClientError as exc:
        return [
            Check("webserver", False, str(exc)),
            Check("daemons", False, "unknown: the webserver did not answer"),
        ]
    checks = [Check("webserver", True, f"{client.url} (dagster {version})")]
    required = [d for d in daemons if d.required]
    if not required:
        checks.append(Check("daemons", False, "the instance requires no daemon"))
    now = time.time()
    for daemon in sorted(required, key=lambda d: d.daemon_type):
        if daemon.last_heartbeat is None:
            detail = "no heartbeat: is `dagster-daemon run` running against this instance?"
        else:
            detail = f"last heartbeat {now - daemon.last_heartbeat:.0f}s ago"
            if daemon.errors:
                detail += f"; error: {daemon.errors[0]}"
        checks.append(Check(f"daemon {daemon.daemon_type}", bool(daemon.healthy), detail))
    return checks


def database_check(url: str) -> Check:
    shown = url
    try:
        engine = make_engine(url)
    except (SQLAlchemyError, ValueError, OSError) as exc:  # OSError: a SQLite folder
        # The URL may not even parse, so mask anything between "://user:" and "@" by hand.
        masked = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)
        return Check("database", False, f"{masked}: {_first_line(exc)}")
    try:
        shown = engine.url.render_as_string(hide_password=True)
        revision = current_revision(engine)
    except SQLAlchemyError as exc:
        return Check("database", False, f"{shown}: unreachable: {_first_line(exc)}")
    finally:
        engine.dispose()
    head = head_revision()
    if revision != head:
        return Check(
            "database",
            False,
            f"{shown}: at revision {revision or 'none'}, head is {head} (run `lexi db upgrade`)",
        )
    return Check("database", True, f"{shown}: at head {head}")


def storage_check(storage: Path) -> Check:
    if not storage.is_dir():
        return Check(
            "storage", False, f"{storage}: not a folder (create it or set LEXI_STORAGE_PATH)"
        )
    probe = storage / f".lexi-health-{uuid.uuid4().hex[:12]}"
    try:
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        return Check("storage", False, f"{storage}: not writable: {exc.strerror or exc}")
    return Check("storage", True, f"{storage}: writable")


def model_checks(url: str, storage: Path) -> list[Check]:
    """Every READY model version's files match the checksums in its manifest."""
    try:
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    select(MODELS.c.project, MODELS.c.field, MODELS.c.version)
                    .where(MODELS.c.status == "READY")
                    .order_by(MODELS.c.project, MODELS.c.field, MODELS.c.version)
                ).all()
        finally:
            engine.dispose()
    except (SQLAlchemyError, ValueError, OSError) as exc:  # as database_check: bad URL, folder
        return [Check("model files", False, f"cannot list models: {_first_line(exc)}")]
    store = ModelStore(storage)
    failures = [
        Check(f"model {project}/{field} v{version}", False, problem)
        for project, field, version in rows
        for problem in _artifact_problems(store.field_dir(project, field) / f"v{version}")
    ]
    verified = len(rows) - len({c.name for c in failures})
    summary = Check(
        "model files",
        not failures,
        f"{verified}/{len(rows)} model versions verified under {storage}",
    )
    return [summary, *failures]


def _artifact_problems(folder: Path) -> Iterator[str]:
    """Checksums only, nothing unpickled: the check must be cheap and safe on any model."""
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text())
    except FileNotFoundError:
        yield f"{folder / MANIFEST_FILE}: missing"
        return
    except (OSError, ValueError) as exc:
        yield f"{folder / MANIFEST_FILE}: unreadable: {exc}"
        return
    artifacts = manifest.get("artifacts") or {}
    if not artifacts:
        yield f"{folder / MANIFEST_FILE}: lists no artifacts"
    yield from artifact_problems(folder, artifacts)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
