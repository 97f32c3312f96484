"""``lexi documents add`` and ``lexi documents status``."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from lexi_pipelines.cli import app


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LEXI_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LEXI_STORAGE_PATH", raising=False)
    monkeypatch.delenv("LEXI_DATABASE_URL", raising=False)
    return tmp_path / "home" / "storage"


def test_add_copies_files_into_the_project(env: Path, tmp_path: Path) -> None:
    source = tmp_path / "brief.md"
    source.write_text("# Brief\n\nArguments.")
    result = CliRunner().invoke(
        app, ["documents", "add", "cases", str(source), "--subfolder", "in"]
    )
    assert result.exit_code == 0, result.output
    assert (env / "cases" / "documents" / "in" / "brief.md").read_text() == source.read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bad/name", "{file}"], "invalid project name"),
        (["cases", "{missing}"], "no such file"),
        (["cases", "{exe}"], "unsupported file type"),
        (["cases", "{file}", "--subfolder", "../escape"], "must be relative"),
    ],
)
def test_add_refuses_bad_input_with_a_clear_message(
    env: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    ok = tmp_path / "ok.txt"
    ok.write_text("fine")
    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ")
    values = {"file": str(ok), "missing": str(tmp_path / "nope.txt"), "exe": str(exe)}
    result = CliRunner().invoke(app, ["documents", "add", *(a.format(**values) for a in args)])
    assert result.exit_code == 2
    assert message in result.output
    assert not (env / "cases").exists() or not any((env / "cases").rglob("*.*"))


def test_status_lists_counts_and_failures(env: Path, tmp_path: Path) -> None:
    from lexi_pipelines.db.engine import ensure_schema, make_engine
    from lexi_pipelines.documents.extract import extract_pending
    from lexi_pipelines.documents.projects import project_paths
    from lexi_pipelines.documents.registry import sync_project
    from lexi_pipelines.settings import get_settings

    folder = env / "cases" / "documents"
    folder.mkdir(parents=True)
    (folder / "good.txt").write_text("Good text.")
    (folder / "bad.pdf").write_bytes(b"")
    engine = make_engine(get_settings().database_url)
    ensure_schema(engine)
    paths = project_paths(env, "cases")
    sync_project(engine, paths)
    extract_pending(engine, paths, max_bytes=10**6, workers=1)
    engine.dispose()
    result = CliRunner().invoke(app, ["documents", "status", "cases"])
    assert result.exit_code == 0, result.output
    assert "EXTRACTED  1" in result.output and "FAILED     1" in result.output
    assert "FAILED bad.pdf: empty file" in result.output


def test_partitions_adds_one_per_project_folder(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dagster as dg

    from lexi_pipelines.documents.partitions import PROJECTS

    for project in ("alpha", "beta"):
        (env / project / "documents").mkdir(parents=True)
    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    result = CliRunner().invoke(app, ["documents", "partitions"])
    assert result.exit_code == 0, result.output
    assert "added partitions: alpha, beta" in result.output
    with dg.DagsterInstance.get() as instance:
        assert sorted(instance.get_dynamic_partitions(PROJECTS)) == ["alpha", "beta"]
    again = CliRunner().invoke(app, ["documents", "partitions"])
    assert "added partitions: none" in again.output
