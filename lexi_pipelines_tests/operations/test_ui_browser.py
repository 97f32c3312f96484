"""The UI end to end: `dagster dev` on loopback, its asset graph in headless Chromium.

Needs Debian's Chromium at /usr/bin/chromium (driven by Playwright, which uses it as is and
downloads no browser); without it the tests skip, except under CI, whose `.ci/run` installs it.
The graph's screenshot stays in the test's temporary folder; `LEXI_UPDATE_SCREENSHOT=1`
copies it to docs/asset-graph.png.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg
import httpx
import pytest

from lexi_pipelines.common.files import copy_file_atomically

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page, ViewportSize

pytestmark = pytest.mark.cli

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = REPO_ROOT / "docs" / "asset-graph.png"
VIEWPORT: ViewportSize = {"width": 1600, "height": 1000}
PORTS = range(3200, 3300)
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
# First paint of a page waits on GraphQL and the graph layout: slow on a busy 2-core machine.
RENDER_TIMEOUT_MS = 20_000
MAX_ZOOM_OUT_STEPS = 5

LOCATIONS_QUERY = """
{ workspaceOrError {
    __typename
    ... on Workspace { locationEntries {
        name loadStatus
        locationOrLoadError { __typename ... on PythonError { message } } } }
    ... on PythonError { message } } }
"""
ASSETS_QUERY = "{ assetNodes { assetKey { path } groupName } }"


def _require(available: bool, reason: str) -> None:
    if available:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must provide it (.ci/run installs it)")
    pytest.skip(reason)


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.fail(f"no free port in {PORTS.start}-{PORTS.stop - 1} on 127.0.0.1")


def _live_group_members(pgid: int) -> list[int]:
    """Processes of the group still running; zombies do not count (init may reap them late)."""
    live = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended while we looked
        state, pgrp = fields[0], int(fields[2])
        if pgrp == pgid and state != "Z":
            live.append(int(stat.parent.name))
    return live


@dataclass
class DagsterDev:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def graphql(self, query: str) -> dict[str, Any]:
        response = httpx.post(f"{self.base_url}/graphql", json={"query": query}, timeout=10)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    def stop(self) -> int | None:
        """Ctrl-C as a terminal sends it (SIGINT to the whole group); the exit status of
        `dagster dev` once every process of the group is gone, None if they had to be killed."""
        pgid = self.process.pid  # start_new_session made it the group's leader
        if self.process.poll() is None:
            os.killpg(pgid, signal.SIGINT)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while time.monotonic() < deadline:
            # The code server outlives `dagster dev` by a few seconds while it winds down.
            if self.process.poll() is not None and not _live_group_members(pgid):
                return self.process.returncode
            time.sleep(0.2)
        for pid in _live_group_members(pgid):
            os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        return None


def _start(workdir: Path, port: int) -> DagsterDev:
    dagster_home = workdir / "dagster_home"
    (dagster_home / ".nux").mkdir(parents=True)
    (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    # The instance's "community sign-up already shown" marker: without it a modal covers the UI.
    (dagster_home / ".nux" / "nux.yaml").write_text("seen: 1\n")
    # Embedded defaults under a fresh LEXI_HOME: SQLite, local storage, the demo ingestion.yaml.
    env = {key: value for key, value in os.environ.items() if not key.startswith("LEXI_")}
    env |= {"DAGSTER_HOME": str(dagster_home), "LEXI_HOME": str(workdir / "lexi")}
    dagster = Path(sys.executable).parent / "dagster"
    # A process started without a terminal may inherit SIGINT as ignored; reset it so that
    # SIGINT (and Ctrl-C) shuts `dagster dev` and its children down cleanly.
    command = ["env", "--default-signal=INT", str(dagster), "dev", "-w", "workspace.yaml"]
    command += ["-h", "127.0.0.1", "-p", str(port)]
    log = workdir / "dagster-dev.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return DagsterDev(process, f"http://127.0.0.1:{port}", log)


def _wait_until_loaded(server: DagsterDev) -> None:
    """Until the webserver answers GraphQL and the code location has loaded without error."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"dagster dev exited ({server.process.returncode}):\n{server.log_tail()}")
        try:
            workspace = server.graphql(LOCATIONS_QUERY)["workspaceOrError"]
        except httpx.HTTPError:
            time.sleep(0.25)
            continue
        assert workspace["__typename"] == "Workspace", workspace
        entries = workspace["locationEntries"]
        if entries and all(entry["loadStatus"] == "LOADED" for entry in entries):
            errors = [
                f"{entry['name']}: {entry['locationOrLoadError']['message']}"
                for entry in entries
                if entry["locationOrLoadError"]["__typename"] == "PythonError"
            ]
            assert not errors, "code location failed to load:\n" + "\n".join(errors)
            return
        time.sleep(0.25)
    pytest.fail(f"dagster dev not ready after {START_TIMEOUT_S:.0f}s:\n{server.log_tail()}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DagsterDev]:
    _require(CHROMIUM.exists(), f"Chromium not installed at {CHROMIUM} (apt-get install chromium)")
    _require(
        importlib.util.find_spec("playwright") is not None,
        "Playwright not installed (pip install -e '.[dev]')",
    )
    dev = _start(tmp_path_factory.mktemp("dagster-dev"), _free_port())
    try:
        _defined_groups()  # imported here, while dagster dev boots
        _wait_until_loaded(dev)
        yield dev
    finally:
        dev.stop()


@pytest.fixture(scope="module")
def page(server: DagsterDev) -> Iterator[Page]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield browser.new_page(viewport=VIEWPORT)
        finally:
            browser.close()


@functools.cache
def _defined_groups() -> dict[str, list[dg.AssetKey]]:
    from lexi_pipelines.definitions import defs

    groups: dict[str, list[dg.AssetKey]] = defaultdict(list)
    for spec in defs.resolve_all_asset_specs():
        groups[spec.group_name or "default"].append(spec.key)
    return dict(groups)


@pytest.fixture(scope="module")
def expected_groups() -> dict[str, list[dg.AssetKey]]:
    """Asset keys per group as the code location defines them, so new domains are covered."""
    return _defined_groups()


def _asset_nodes(graph: Locator, groups: dict[str, list[dg.AssetKey]]) -> Locator:
    """Any node of these assets, found by the name it shows (the key's last part)."""
    nodes: Locator | None = None
    for group, keys in groups.items():
        for key in keys:
            name = key.path[-1]
            # An asset named like its group (documents/documents) is the second such label.
            node = graph.get_by_text(name, exact=True).nth(1 if name == group else 0)
            nodes = node if nodes is None else nodes.or_(node)
    assert nodes is not None, "no assets defined"
    return nodes


def _graph_and_pane(page: Page) -> tuple[float, ...]:
    """(left, top, right, bottom) of the drawn graph, then of the free part of the pane that
    shows it: below the search bar (a CodeMirror editor) that floats over the pane's top."""
    rects: list[float] = page.locator("svg:has(foreignObject)").evaluate(
        """svg => {
            let pane = svg.parentElement;
            while (pane.parentElement && getComputedStyle(pane).overflow !== "hidden") {
                pane = pane.parentElement;
            }
            const g = svg.getBoundingClientRect(), p = pane.getBoundingClientRect();
            const search = document.querySelector(".CodeMirror");
            const top = search ? Math.max(p.top, search.getBoundingClientRect().bottom) : p.top;
            return [g.left, g.top, g.right, g.bottom, p.left, top, p.right, p.bottom];
        }"""
    )
    return tuple(rects)


def _zoom_out_until_the_graph_fits(page: Page) -> None:
    """For the screenshot: the graph fits itself to the pane only down to a readable zoom, so
    zoom out step by step until all of it shows."""
    zoom_out = page.locator("button", has=page.get_by_role("img", name="zoom_out"))
    for _step in range(MAX_ZOOM_OUT_STEPS):
        rects = _graph_and_pane(page)
        for _poll in range(30):  # until the zoom animation has settled
            page.wait_for_timeout(100)
            rects, previous = _graph_and_pane(page), rects
            if rects == previous:
                break
        left, top, right, bottom, pane_left, pane_top, pane_right, pane_bottom = rects
        if pane_left <= left and pane_top <= top and right <= pane_right and bottom <= pane_bottom:
            return
        zoom_out.click()


def test_webserver_serves_every_defined_asset(
    server: DagsterDev, expected_groups: dict[str, list[dg.AssetKey]]
) -> None:
    served = {
        (tuple(node["assetKey"]["path"]), node["groupName"])
        for node in server.graphql(ASSETS_QUERY)["assetNodes"]
    }
    defined = {(tuple(key.path), group) for group, keys in expected_groups.items() for key in keys}
    assert served == defined


def test_asset_graph_shows_every_group_and_its_assets(
    server: DagsterDev,
    page: Page,
    expected_groups: dict[str, list[dg.AssetKey]],
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect

    page.goto(f"{server.base_url}/asset-groups")  # "Global asset lineage"
    graph = page.locator("svg")  # nodes are foreignObjects in the graph's svg
    # Every group shows its name, as a collapsed node (the default) or an expanded frame.
    for group in expected_groups:
        expect(graph.get_by_text(group, exact=True).first).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    if not _asset_nodes(graph, expected_groups).first.is_visible():
        page.keyboard.press("Alt+KeyE")  # the graph's "Expand all groups" toggle
    for group, keys in expected_groups.items():
        nodes = _asset_nodes(graph, {group: keys})
        expect(nodes.first, f"no asset of group {group!r} in the graph").to_be_visible()

    _zoom_out_until_the_graph_fits(page)
    shot = tmp_path / "asset-graph.png"
    page.screenshot(path=shot)
    header = shot.read_bytes()[:24]
    assert header.startswith(b"\x89PNG")
    size = int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")
    assert size == (VIEWPORT["width"], VIEWPORT["height"])
    if os.environ.get("LEXI_UPDATE_SCREENSHOT") == "1":
        copy_file_atomically(shot, SCREENSHOT)


def test_asset_catalog_lists_every_asset_key(
    server: DagsterDev, page: Page, expected_groups: dict[str, list[dg.AssetKey]]
) -> None:
    from playwright.sync_api import expect

    page.goto(f"{server.base_url}/assets")
    for keys in expected_groups.values():
        for key in keys:
            label = " / ".join(key.path)  # how the catalog writes a key
            expect(page.get_by_text(label, exact=True).first).to_be_visible(
                timeout=RENDER_TIMEOUT_MS
            )


def test_dagster_dev_stops_cleanly_on_sigint(server: DagsterDev) -> None:
    # Last in the module: the fixture's own teardown then finds nothing left to stop.
    status = server.stop()
    assert status is not None, f"dagster dev had to be killed:\n{server.log_tail()}"
    assert status == 0, server.log_tail()
