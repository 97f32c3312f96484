"""product_vectors and chunk_vectors materialized for real: the model, LanceDB, both databases."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from lexi_pipelines.catalog.assets import brand_registry, product_feed
from lexi_pipelines.catalog.resources import CatalogSourceResource
from lexi_pipelines.common.resources import DatabaseResource
from lexi_pipelines.documents.assets import document_chunks, document_text, documents_registry
from lexi_pipelines.documents.partitions import PROJECTS
from lexi_pipelines.documents.resources import DocumentStorageResource
from lexi_pipelines.settings import LexiSettings
from lexi_pipelines.vectors.assets import chunk_vectors, product_vectors
from lexi_pipelines.vectors.checks import chunks_retrieve_themselves, products_retrieve_themselves
from lexi_pipelines.vectors.search import search_catalog_or_project
from lexi_pipelines_tests.catalog.test_assets import ACME, edit_json
from lexi_pipelines_tests.documents.conftest import DEMO_DOCUMENTS

PRODUCT_ASSETS: list[Any] = [
    brand_registry,
    product_feed,
    product_vectors,
    products_retrieve_themselves,
]
CHUNK_ASSETS: list[Any] = [
    documents_registry,
    document_text,
    document_chunks,
    chunk_vectors,
    chunks_retrieve_themselves,
]


def _vector_metadata(result: dg.ExecuteInProcessResult, name: str) -> dict[str, Any]:
    key = dg.AssetKey(["vectors", name])
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key == key]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def _checks_passed(result: dg.ExecuteInProcessResult) -> bool:
    evaluations = result.get_asset_check_evaluations()
    return bool(evaluations) and all(c.passed for c in evaluations)


def _settings(database_url: str, tmp_path: Path) -> LexiSettings:
    return LexiSettings(
        home=tmp_path,
        database_url=database_url,
        storage_path=tmp_path / "storage",
        ingestion_config=tmp_path / "unused.yaml",
        vector_path=tmp_path / "vectors",
        embedding_device="cpu",
    )


def test_product_vectors_are_incremental_and_follow_deletes(
    resources: dict[str, Any],
    vector_resources: dict[str, Any],
    database_url: str,
    catalog_dir: Path,
    dagster_instance: dg.DagsterInstance,
    tmp_path: Path,
) -> None:
    all_resources = {**resources, **vector_resources}

    def run() -> dict[str, Any]:
        result = dg.materialize(
            PRODUCT_ASSETS, partition_key=ACME, resources=all_resources, instance=dagster_instance
        )
        assert _checks_passed(result)
        return _vector_metadata(result, "product_vectors")

    first = run()
    assert (first["embedded"], first["vectors_in_namespace"]) == (12, 12)
    assert (first["backend"], first["model"], first["dimension"]) == (
        "lancedb",
        "all-MiniLM-L6-v2",
        384,
    )

    again = run()
    assert (again["embedded"], again["unchanged"], again["deleted"]) == (0, 12, 0)

    shard = catalog_dir / "acme-outdoor" / "feed" / "feed-000.json"

    def drop_mug_reprice_pole(data: Any) -> Any:
        items = data["itemListElement"]
        data["itemListElement"] = [e for e in items if not e["item"]["@id"].endswith("MUG-450")]
        for element in data["itemListElement"]:
            if element["item"]["@id"] == "urn:cmp:sku:ACME-TPOLE-CARBON":
                element["item"]["offers"]["price"] = 12.5
            if element["item"]["@id"] == "urn:cmp:sku:ACME-BAG-DOWN-5C":
                element["item"]["description"] = "A brand new description of the sleeping bag."
        return data

    edit_json(shard, drop_mug_reprice_pole)
    changed = run()
    # The bag's text changed (embedded), the pole's price only (metadata rewritten with its
    # stored vector), the mug was soft-deleted (removed from the index).
    assert (changed["embedded"], changed["metadata_updated"], changed["deleted"]) == (1, 1, 1)
    assert changed["vectors_in_namespace"] == 11

    matches = search_catalog_or_project(
        "pole", ingestor=ACME, k=3, settings=_settings(database_url, tmp_path)
    )
    pole = next(m for m in matches if m.id == "product:urn:cmp:sku:ACME-TPOLE-CARBON")
    assert pole.metadata["price"] == 12.5


def test_product_search_ranks_by_meaning_and_keywords(
    vector_resources: dict[str, Any],
    sqlite_url: str,
    catalog_dir: Path,
    dagster_instance: dg.DagsterInstance,
    tmp_path: Path,
) -> None:
    resources = {
        "database": DatabaseResource(url=sqlite_url),
        "catalog_sources": CatalogSourceResource(
            ingestion_config_path=str(catalog_dir / "ingestion.yaml")
        ),
        **vector_resources,
    }
    dg.materialize(
        PRODUCT_ASSETS, partition_key=ACME, resources=resources, instance=dagster_instance
    )
    settings = _settings(sqlite_url, tmp_path)
    dense = search_catalog_or_project(
        "backpacking tent for two people", ingestor=ACME, settings=settings
    )
    assert "tent" in str(dense[0].metadata.get("name", "")).lower()
    hybrid = search_catalog_or_project(
        "Ridge jacket", ingestor=ACME, hybrid=True, settings=settings
    )
    assert str(hybrid[0].metadata["name"]).startswith("Ridge Jacket")
    assert [m.score for m in hybrid] == sorted((m.score for m in hybrid), reverse=True)
    with pytest.raises(ValueError, match="exactly one"):
        search_catalog_or_project("x", settings=settings)


def test_chunk_vectors_follow_document_changes(
    vector_resources: dict[str, Any],
    sqlite_url: str,
    dagster_instance: dg.DagsterInstance,
    tmp_path: Path,
) -> None:
    storage = tmp_path / "storage"
    shutil.copytree(DEMO_DOCUMENTS, storage)
    resources = {
        "database": DatabaseResource(url=sqlite_url),
        "document_storage": DocumentStorageResource(storage_path=str(storage)),
        **vector_resources,
    }
    dagster_instance.add_dynamic_partitions(PROJECTS, ["demo-legal"])

    def run() -> dict[str, Any]:
        result = dg.materialize(
            CHUNK_ASSETS, partition_key="demo-legal", resources=resources, instance=dagster_instance
        )
        assert _checks_passed(result)
        return _vector_metadata(result, "chunk_vectors")

    first = run()
    assert first["embedded"] == first["vectors_in_namespace"] >= 5
    assert run()["embedded"] == 0
    (storage / "demo-legal" / "documents" / "court-notice.html").unlink()
    after = run()
    assert after["deleted"] >= 1 and after["embedded"] == 0
    matches = search_catalog_or_project(
        "when is the hearing on the motion to compel",
        project="demo-legal",
        settings=_settings(sqlite_url, tmp_path),
    )
    assert matches and matches[0].metadata["path"] != "court-notice.html"
    assert all("document_id" in m.metadata and "snippet" in m.metadata for m in matches)
