"""The code location loads, with the objects users drive from the UI and the CLI."""

from __future__ import annotations

import itertools

import dagster as dg

from lexi_pipelines.definitions import defs


def test_definitions_load_and_validate() -> None:
    dg.Definitions.validate_loadable(defs)
    repository = defs.get_repository_def()
    assert {key.to_user_string() for key in repository.asset_graph.get_all_asset_keys()} >= {
        "catalog/brand_registry",
        "catalog/product_feed",
    }
    assert {"catalog_ingest_job", "catalog_cleanup_job"} <= set(repository.job_names)
    sensors = {s.name for s in repository.sensor_defs}
    assert "catalog_feed_update_sensor" in sensors
    schedules = {s.name for s in repository.schedule_defs}
    assert {
        "catalog_acme_outdoor_schedule",
        "catalog_northwind_home_schedule",
        "catalog_mesh_market_schedule",
        "catalog_cleanup_schedule",
    } <= schedules


def test_catalog_assets_are_partitioned_by_ingestor_and_retry_transient_faults() -> None:
    graph = defs.get_repository_def().asset_graph
    for key in ("catalog/brand_registry", "catalog/product_feed"):
        node = graph.get(dg.AssetKey.from_user_string(key))
        assert node.partitions_def is not None
        assert node.partitions_def.get_partition_keys() == [
            "acme-outdoor",
            "northwind-home",
            "mesh-market",
        ]
    feed = graph.get(dg.AssetKey.from_user_string("catalog/product_feed"))
    assert dg.AssetKey.from_user_string("catalog/brand_registry") in feed.parent_keys
    assets_def = graph.assets_def_for_key(feed.key)
    policy = assets_def.op.retry_policy
    assert policy is not None and policy.backoff == dg.Backoff.EXPONENTIAL
    assert policy.jitter is not None


def test_registry_check_blocks_the_feed() -> None:
    graph = defs.get_repository_def().asset_graph
    registry = dg.AssetKey.from_user_string("catalog/brand_registry")
    blocking = [spec for spec in graph.assets_def_for_key(registry).check_specs] + [
        spec
        for checks_def in defs.asset_checks or []
        if isinstance(checks_def, dg.AssetChecksDefinition)
        for spec in checks_def.check_specs
        if spec.asset_key == registry
    ]
    assert any(spec.blocking for spec in blocking)


def test_documents_objects_are_registered_and_partitioned_by_project() -> None:
    repository = defs.get_repository_def()
    graph = repository.asset_graph
    keys = ["documents/documents", "documents/document_text", "documents/document_chunks"]
    for parent, child in itertools.pairwise(keys):
        node = graph.get(dg.AssetKey.from_user_string(child))
        assert dg.AssetKey.from_user_string(parent) in node.parent_keys
    for key in keys:
        node = graph.get(dg.AssetKey.from_user_string(key))
        assert isinstance(node.partitions_def, dg.DynamicPartitionsDefinition)
        assert node.partitions_def.name == "projects"
    assert "documents_job" in repository.job_names
    assert "documents_inbox_sensor" in {s.name for s in repository.sensor_defs}
    assert "documents_reconcile_schedule" in {s.name for s in repository.schedule_defs}


def test_loading_the_code_location_raises_no_deprecation_warning() -> None:
    import importlib
    import sys
    import warnings

    stale = [m for m in sys.modules if m.startswith("lexi_pipelines")]
    saved = {m: sys.modules.pop(m) for m in stale}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", DeprecationWarning)
            importlib.import_module("lexi_pipelines.definitions")
    finally:
        sys.modules.update(saved)


def test_vector_assets_follow_their_sources_and_ride_in_the_ingest_jobs() -> None:
    repository = defs.get_repository_def()
    graph = repository.asset_graph
    products = graph.get(dg.AssetKey.from_user_string("vectors/product_vectors"))
    chunks = graph.get(dg.AssetKey.from_user_string("vectors/chunk_vectors"))
    assert dg.AssetKey.from_user_string("catalog/product_feed") in products.parent_keys
    assert dg.AssetKey.from_user_string("documents/document_chunks") in chunks.parent_keys
    assert products.partitions_def is not None
    assert products.partitions_def.get_partition_keys()[0] == "acme-outdoor"
    assert isinstance(chunks.partitions_def, dg.DynamicPartitionsDefinition)
    ingest = repository.get_job("catalog_ingest_job")
    assert products.key in ingest.asset_layer.executable_asset_keys
    documents = repository.get_job("documents_job")
    assert chunks.key in documents.asset_layer.executable_asset_keys
    for name in ("product_vectors_job", "chunk_vectors_job"):
        assert repository.get_job(name).tags["lexi/queue"] == "indexing"
