"""Materializing any asset a second time, with nothing changed, changes nothing.

One chain per partition kind covers every asset of the code location: the chain is
materialized once, then each asset alone again, and the tables (every column, timestamps
included) and the files under LEXI_HOME (extracted text, model versions, prediction history,
vector tables and BM25 statistics, evaluation workbooks) must be as they were.

A model is the exception by design: training again makes a new version (versions are the
history that evaluation and rollback rely on). For it the test asserts the next best thing:
one new version with the same plugins, training data and classes, and nothing else changed.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from lexi_pipelines.catalog.assets import BRAND_REGISTRY, PRODUCT_FEED, brand_registry, product_feed
from lexi_pipelines.catalog.resources import CatalogSourceResource
from lexi_pipelines.classification.artifacts import ModelStore
from lexi_pipelines.classification.assets import (
    FIELD_MODEL,
    FIELD_MODEL_EVALUATION,
    FIELD_PREDICTIONS,
    field_model,
    field_model_evaluation,
    field_predictions,
)
from lexi_pipelines.classification.checks import model_beats_baseline
from lexi_pipelines.classification.partitions import FIELDS
from lexi_pipelines.classification.resources import ModelArtifactIOManager
from lexi_pipelines.common.notifier import NotifierResource
from lexi_pipelines.common.resources import DatabaseResource
from lexi_pipelines.documents.assets import (
    DOCUMENT_CHUNKS,
    DOCUMENT_TEXT,
    DOCUMENTS,
    document_chunks,
    document_text,
    documents_registry,
)
from lexi_pipelines.documents.partitions import PROJECTS
from lexi_pipelines.documents.resources import DocumentStorageResource
from lexi_pipelines.evaluation.assets import (
    DATASET,
    LEADERBOARD,
    RESULTS,
    dataset,
    leaderboard,
    results,
)
from lexi_pipelines.evaluation.checks import dataset_checks, field_validation
from lexi_pipelines.evaluation.partitions import EVALUATION_MODELS, EVALUATION_USE_CASES
from lexi_pipelines.evaluation.resources import EvaluationStorageResource
from lexi_pipelines.vectors.assets import (
    CHUNK_VECTORS,
    PRODUCT_VECTORS,
    chunk_vectors,
    product_vectors,
)
from lexi_pipelines.vectors.resources import Embedder, VectorIndexResource
from lexi_pipelines_tests.classification.test_assets import KEY as FIELD_KEY
from lexi_pipelines_tests.classification.test_assets import PROJECT as LABELLED
from lexi_pipelines_tests.classification.test_assets import _write_corpus
from lexi_pipelines_tests.conftest import DEMO_CATALOG
from lexi_pipelines_tests.documents.conftest import DEMO_DOCUMENTS
from lexi_pipelines_tests.evaluation.flow_data import USE_CASE, write_use_case
from lexi_pipelines_tests.faults.state import Tables, differences, file_hashes, table_rows

NOTHING = frozenset[str]()
EVALUATED = f"{USE_CASE}/gpt-4"


@dataclass(frozen=True)
class Chain:
    """Assets of one partition, in materialization order, after ``setup`` (other partitions)."""

    partition: str
    dynamic: str | None
    assets: tuple[Any, ...]
    setup: tuple[tuple[str, str, tuple[Any, ...]], ...] = ()  # (partition, dynamic, assets)


DOCUMENT_ASSETS = (documents_registry, document_text, document_chunks)
CHAINS = {
    "ingestor": Chain("acme-outdoor", None, (brand_registry, product_feed, product_vectors)),
    "project": Chain("demo-legal", PROJECTS, (*DOCUMENT_ASSETS, chunk_vectors)),
    # field_model last: a second training adds a version the others would then evaluate.
    "field": Chain(
        FIELD_KEY,
        FIELDS,
        (field_model, field_model_evaluation, field_predictions),
        setup=((LABELLED, PROJECTS, DOCUMENT_ASSETS),),
    ),
    "evaluation_model": Chain(EVALUATED, EVALUATION_MODELS, (dataset, results)),
    "use_case": Chain(
        USE_CASE,
        EVALUATION_USE_CASES,
        (leaderboard,),
        setup=((EVALUATED, EVALUATION_MODELS, (dataset, results)),),
    ),
}
SECOND_RUN_ORDER = {
    "field": (FIELD_MODEL_EVALUATION, FIELD_PREDICTIONS, FIELD_MODEL),
}
COVERED = {
    "ingestor": (BRAND_REGISTRY, PRODUCT_FEED, PRODUCT_VECTORS),
    "project": (DOCUMENTS, DOCUMENT_TEXT, DOCUMENT_CHUNKS, CHUNK_VECTORS),
    "field": (FIELD_MODEL, FIELD_MODEL_EVALUATION, FIELD_PREDICTIONS),
    "evaluation_model": (DATASET, RESULTS),
    "use_case": (LEADERBOARD,),
}


def test_every_asset_of_the_code_location_is_covered() -> None:
    """A new asset fails here until it has an idempotency chain."""
    from lexi_pipelines.definitions import defs

    expected = set(defs.resolve_asset_graph().get_all_asset_keys())
    covered = [key for keys in COVERED.values() for key in keys]
    assert len(covered) == len(set(covered))
    assert set(covered) == expected
    for name, chain in CHAINS.items():
        assert {a.key for a in chain.assets} == set(COVERED[name])


@pytest.fixture(scope="module")
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


def _resources(home: Path, database_url: str, catalog: Path) -> dict[str, Any]:
    database = DatabaseResource(url=database_url)
    storage = str(home / "storage")
    return {
        "database": database,
        "catalog_sources": CatalogSourceResource(
            ingestion_config_path=str(catalog / "ingestion.yaml")
        ),
        "document_storage": DocumentStorageResource(storage_path=storage),
        "model_io_manager": ModelArtifactIOManager(storage_path=storage, database=database),
        "embedder": Embedder(device="cpu"),
        "vector_index": VectorIndexResource(path=str(home / "vectors")),
        "evaluation_storage": EvaluationStorageResource(storage_path=storage),
        "notifier": NotifierResource(outbox_path=str(home.parent / "outbox")),
    }


def _state(home: Path, database_url: str) -> tuple[Tables, dict[str, str]]:
    return table_rows(database_url, without=NOTHING), file_hashes(home, scratch=True)


# The catalog writes through COPY on PostgreSQL and batched upserts on SQLite: both. The other
# chains' SQL is dialect-neutral and runs on the embedded default.
RUNS = [
    ("ingestor", "sqlite"),
    ("ingestor", "postgres"),
    ("project", "sqlite"),
    ("field", "sqlite"),
    ("evaluation_model", "sqlite"),
    ("use_case", "sqlite"),
]


@pytest.mark.parametrize(("name", "database"), RUNS, ids=[f"{n}-{d}" for n, d in RUNS])
def test_materializing_again_changes_nothing(
    name: str,
    database: str,
    tmp_path: Path,
    instance: dg.DagsterInstance,
    request: pytest.FixtureRequest,
) -> None:
    chain = CHAINS[name]
    home = tmp_path / "home"
    shutil.copytree(DEMO_DOCUMENTS, home / "storage")
    _write_corpus(home / "storage")
    write_use_case(home / "storage" / "evaluations", models=(EVALUATED.split("/")[1],))
    catalog = tmp_path / "catalog"
    shutil.copytree(DEMO_CATALOG, catalog)
    database_url = (
        request.getfixturevalue("postgres_url")
        if database == "postgres"
        else f"sqlite:///{tmp_path / 'lexi.db'}"
    )
    resources = _resources(home, database_url, catalog)

    def materialize(
        assets: tuple[Any, ...], partition: str, dynamic: str | None, only: Any = None
    ) -> None:
        if dynamic:
            instance.add_dynamic_partitions(dynamic, [partition])
        definitions = list(assets)
        if field_model_evaluation in definitions:
            definitions.append(model_beats_baseline)  # the gate that lets predictions run
        if dataset in definitions:
            definitions += [field_validation, dataset_checks]  # the QC gate of results
        result = dg.materialize(
            definitions,
            selection=dg.AssetSelection.assets(only) if only is not None else None,
            partition_key=partition,
            resources=resources,
            instance=instance,
        )
        assert result.success

    for partition, dynamic, assets in chain.setup:
        materialize(assets, partition, dynamic)
    materialize(chain.assets, chain.partition, chain.dynamic)
    tables, files = _state(home, database_url)

    for key in SECOND_RUN_ORDER.get(name, [a.key for a in chain.assets]):
        materialize(chain.assets, chain.partition, chain.dynamic, only=key)  # alone
        after_tables, after_files = _state(home, database_url)
        if key == FIELD_MODEL:
            _assert_one_equal_new_version(home, tables, files, after_tables, after_files)
            continue
        assert after_tables == tables, (key, differences(tables, after_tables))
        changed = sorted(
            n for n in set(files) | set(after_files) if files.get(n) != after_files.get(n)
        )
        assert not changed, (key, changed)


def _assert_one_equal_new_version(
    home: Path,
    tables: Tables,
    files: dict[str, str],
    after_tables: Tables,
    after_files: dict[str, str],
) -> None:
    store = ModelStore(home / "storage")
    assert store.versions(LABELLED, "default") == [1, 2]
    first, second = (store.manifest(LABELLED, "default", v) for v in (1, 2))
    same = ("plugins", "training_data_hash", "labels_hash", "classes", "class_counts")
    assert {k: first[k] for k in same} == {k: second[k] for k in same}
    models = after_tables.pop("models")
    assert models[: len(tables["models"])] == tables["models"]  # version 1 untouched
    assert len(models) == len(tables["models"]) + 1
    # Labels are stored again from the same files: same rows, new stamps.
    without_stamps = {name: _strip(rows) for name, rows in after_tables.items()}
    before = {name: _strip(rows) for name, rows in tables.items() if name != "models"}
    assert without_stamps == before, differences(before, without_stamps)
    new_files = sorted(set(after_files) - set(files))
    assert all("/models/default/v2/" in n for n in new_files), new_files
    assert {n: after_files[n] for n in files} == files


def _strip(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    from datetime import datetime

    return [tuple(v for v in row if not isinstance(v, datetime)) for row in rows]
