"""A feed big enough for the parallel parse path: same results, same clear errors."""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lexi_pipelines.catalog.config import load_ingestion_config
from lexi_pipelines.catalog.errors import CatalogInputError
from lexi_pipelines.catalog.feed import PARALLEL_PARSE_MIN_BYTES, ingest_feed
from lexi_pipelines.catalog.registry import ingest_registry
from lexi_pipelines.catalog.sources import SourceReader
from lexi_pipelines.common.processes import main_module_hidden
from lexi_pipelines.db.engine import ensure_schema, make_engine
from lexi_pipelines.db.models import Offer, Product
from lexi_pipelines_tests.conftest import REPO_ROOT, snapshot

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
from feedgen import generate_catalog


def test_input_error_survives_pickling() -> None:
    error = CatalogInputError("/f.json", "negative value -1", item="item 3", field="price")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.source, copy.item, copy.field, str(copy)) == (
        error.source, error.item, error.field, str(error)
    )  # fmt: skip


@pytest.fixture(scope="module")
def large_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("large")
    catalog = generate_catalog(root, 9000)
    assert sum(p.stat().st_size for p in catalog.shard_paths) > PARALLEL_PARSE_MIN_BYTES
    return root


def test_parallel_path_ingests_and_reports_bad_input(
    large_catalog: Path, database_url: str
) -> None:
    ingestor = load_ingestion_config(large_catalog / "ingestion.yaml").ingestors[0]
    engine = make_engine(database_url)
    ensure_schema(engine)
    try:
        with SourceReader() as reader:
            ingest_registry(engine, ingestor, reader)
            result = ingest_feed(engine, ingestor, reader)
            assert result.products_inserted == 9000
            assert result.unlinked_variants == []
            with engine.connect() as conn:
                assert conn.scalar(select(func.count()).select_from(Product)) == 9000
                assert conn.scalar(select(func.count()).select_from(Offer)) == 9000
                linked = conn.scalar(
                    select(func.count()).where(Product.product_group_urn.is_not(None))
                )
            assert linked and linked == count_variants(large_catalog)

            before = snapshot(database_url)
            shard = sorted((large_catalog / "feed").glob("feed-*.json"))[-1]
            original = shard.read_bytes()
            data = json.loads(original)
            data["itemListElement"][4]["item"]["name"] = ""
            shard.write_text(json.dumps(data))
            try:
                with pytest.raises(CatalogInputError) as failure:
                    ingest_feed(engine, ingestor, reader)
            finally:
                shard.write_bytes(original)
            assert failure.value.item is not None and failure.value.item.startswith("item 5 ")
            assert failure.value.field == "item.name"
            assert shard.name in str(failure.value)
            assert snapshot(database_url) == before
    finally:
        engine.dispose()


def count_variants(root: Path) -> int:
    """Products with an isVariantOf in the generated feed."""
    count = 0
    for shard in (root / "feed").glob("feed-*.json"):
        for element in json.loads(shard.read_bytes())["itemListElement"]:
            count += "isVariantOf" in element["item"]
    return count


def test_workers_are_started_without_the_main_module() -> None:
    main = sys.modules["__main__"]
    spec, path = main.__spec__, getattr(main, "__file__", None)
    with main_module_hidden():
        # What multiprocessing reads to decide whether a new process imports __main__.
        assert main.__spec__ is None and not hasattr(main, "__file__")
    assert main.__spec__ is spec and getattr(main, "__file__", None) == path
