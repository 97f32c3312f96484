"""``lexi search``: ranked results with scores and metadata, and clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from typer.testing import CliRunner

from lexi_pipelines.catalog.resources import CatalogSourceResource
from lexi_pipelines.cli import app
from lexi_pipelines.common.resources import DatabaseResource
from lexi_pipelines.vectors.resources import Embedder, VectorIndexResource
from lexi_pipelines_tests.catalog.test_assets import ACME
from lexi_pipelines_tests.vectors.test_assets import PRODUCT_ASSETS


@pytest.fixture
def indexed_home(
    tmp_path: Path,
    catalog_dir: Path,
    dagster_instance: dg.DagsterInstance,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    home = tmp_path / "home"
    url = f"sqlite:///{home / 'lexi.db'}"
    resources: dict[str, Any] = {
        "database": DatabaseResource(url=url),
        "catalog_sources": CatalogSourceResource(
            ingestion_config_path=str(catalog_dir / "ingestion.yaml")
        ),
        "embedder": Embedder(device="cpu"),
        "vector_index": VectorIndexResource(path=str(home / "vectors")),
    }
    dg.materialize(
        PRODUCT_ASSETS, partition_key=ACME, resources=resources, instance=dagster_instance
    )
    for name in ("LEXI_DATABASE_URL", "LEXI_VECTOR_PATH", "LEXI_VECTOR_BACKEND"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LEXI_HOME", str(home))
    monkeypatch.setenv("LEXI_EMBEDDING_DEVICE", "cpu")
    return home


def test_search_prints_ranked_results(indexed_home: Path) -> None:
    result = CliRunner().invoke(
        app, ["search", "waterproof jacket", "--ingestor", ACME, "--k", "3", "--hybrid"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(" 1. ") and "Ridge Jacket" in lines[0]
    assert "[product:urn:cmp:sku:" in lines[0]
    assert "price=" in result.output and "brand=" in result.output
    assert sum(1 for line in lines if line[:3].strip().rstrip(".").isdigit()) == 3


def test_search_filters_by_metadata(indexed_home: Path) -> None:
    result = CliRunner().invoke(
        app, ["search", "gear", "--ingestor", ACME, "--where", "availability=InStock"]
    )
    assert result.exit_code == 0, result.output
    assert "availability=InStock" in result.output
    assert "availability=OutOfStock" not in result.output


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["search", "tent"], 2, "exactly one"),
        (["search", "tent", "--ingestor", "nowhere"], 1, "holds no vectors"),
        (["search", "   ", "--ingestor", ACME], 2, "query is empty"),
        (["search", "tent", "--ingestor", ACME, "--where", "oops"], 2, "field=value"),
    ],
)
def test_search_errors_are_clear(
    indexed_home: Path, args: list[str], code: int, message: str
) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == code
    assert message in result.output
