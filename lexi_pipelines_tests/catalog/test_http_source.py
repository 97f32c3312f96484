"""An ``http`` ingestor against a loopback server, including transient 503s (retried)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from lexi_pipelines.catalog.resources import CatalogSourceResource
from lexi_pipelines.common.resources import DatabaseResource
from lexi_pipelines_tests.catalog.test_assets import CATALOG_ASSETS, feed_metadata


class FlakyHandler(SimpleHTTPRequestHandler):
    """Serves a folder; answers 503 to the first ``failures`` GETs of a registry."""

    failures_left: dict[str, int] = {}

    def do_GET(self) -> None:
        left = self.failures_left.get(self.path, 0)
        if left:
            self.failures_left[self.path] = left - 1
            self.send_error(503, "warming up")
            return
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        return


@pytest.fixture
def served_catalog(catalog_dir: Path) -> Iterator[str]:
    handler = partial(FlakyHandler, directory=str(catalog_dir))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        FlakyHandler.failures_left = {}


def _http_config(tmp_path: Path, base_url: str) -> Path:
    config = tmp_path / "http-ingestion.yaml"
    config.write_text(
        "ingestion:\n"
        "  - name: acme-outdoor\n"
        "    source_type: http\n"
        f"    registry: {base_url}/acme-outdoor/brand-registry.jsonld\n"
        f"    feed_path: {base_url}/acme-outdoor/feed/feed.json\n"
        '    schedule: "0 */4 * * *"\n'
    )
    return config


def test_http_ingestor_retries_transient_errors(
    tmp_path: Path, served_catalog: str, sqlite_url: str
) -> None:
    FlakyHandler.failures_left = {"/acme-outdoor/brand-registry.jsonld": 1}
    resources = {
        "database": DatabaseResource(url=sqlite_url),
        "catalog_sources": CatalogSourceResource(
            ingestion_config_path=str(_http_config(tmp_path, served_catalog)), http_timeout_s=5
        ),
    }
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            CATALOG_ASSETS, partition_key="acme-outdoor", resources=resources, instance=instance
        )
    assert result.success
    restarts = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_RESTARTED]
    assert len(restarts) == 1
    metadata = feed_metadata(result)
    assert metadata["products_inserted"] == 12
    assert metadata["shards_total"] == 2


def test_http_not_found_is_permanent(tmp_path: Path, served_catalog: str, sqlite_url: str) -> None:
    config = _http_config(tmp_path, served_catalog)
    config.write_text(config.read_text().replace("feed/feed.json", "feed/missing.json"))
    resources = {
        "database": DatabaseResource(url=sqlite_url),
        "catalog_sources": CatalogSourceResource(ingestion_config_path=str(config)),
    }
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            CATALOG_ASSETS,
            partition_key="acme-outdoor",
            resources=resources,
            instance=instance,
            raise_on_error=False,
        )
    failure = result.failure_data_for_node("catalog__product_feed")
    assert failure is not None and failure.error is not None
    assert "missing.json" in failure.error.message and "HTTP 404" in failure.error.message
    assert not [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_RESTARTED]
