"""Source fingerprints of the demo ingestors (a copy of the demo catalog in tmp_path)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from lexi_pipelines.catalog.config import IngestionConfig, IngestorConfig, load_ingestion_config
from lexi_pipelines.catalog.fingerprint import source_fingerprint
from lexi_pipelines.catalog.sources import SourceReader
from lexi_pipelines.settings import DEMO_DATA_DIR
from lexi_pipelines_tests.catalog.loopback import LoopbackServer, Route

DEMO_CATALOG = DEMO_DATA_DIR / "catalog"
# A fixed, old modification time for every copied file: any later write changes the mtime
# even on file systems with coarse timestamps.
OLD_MTIME_NS = 1_700_000_000 * 10**9


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    copy = tmp_path / "catalog"
    shutil.copytree(DEMO_CATALOG, copy)
    for path in copy.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(OLD_MTIME_NS, OLD_MTIME_NS))
    return copy


@pytest.fixture
def config(catalog: Path) -> IngestionConfig:
    return load_ingestion_config(catalog / "ingestion.yaml")


@pytest.fixture
def reader() -> Iterator[SourceReader]:
    with SourceReader() as source_reader:
        yield source_reader


def rewrite(path: Path, old: bytes, new: bytes) -> None:
    """Replace ``old`` by ``new`` (same length: the size alone does not reveal the change)."""
    assert len(old) == len(new)
    content = path.read_bytes()
    assert old in content, f"{old!r} not in {path}"
    path.write_bytes(content.replace(old, new, 1))


@pytest.mark.parametrize("name", ["acme-outdoor", "northwind-home", "mesh-market"])
def test_fingerprint_is_stable(config: IngestionConfig, reader: SourceReader, name: str) -> None:
    ingestor = config.get(name)

    first = source_fingerprint(ingestor, reader)

    assert len(first) == 64
    assert source_fingerprint(ingestor, reader) == first
    assert source_fingerprint(ingestor, SourceReader()) == first


def test_fingerprints_differ_between_ingestors(
    config: IngestionConfig, reader: SourceReader
) -> None:
    fingerprints = {source_fingerprint(i, reader) for i in config.ingestors}

    assert len(fingerprints) == len(config.ingestors)


def test_changes_with_a_shard(catalog: Path, config: IngestionConfig, reader: SourceReader) -> None:
    acme = config.get("acme-outdoor")
    before = source_fingerprint(acme, reader)

    rewrite(catalog / "acme-outdoor" / "feed" / "feed-001.json", b'"name"', b'"Name"')

    assert source_fingerprint(acme, reader) != before


def test_changes_with_a_shard_of_different_size(
    catalog: Path, config: IngestionConfig, reader: SourceReader
) -> None:
    northwind = config.get("northwind-home")
    before = source_fingerprint(northwind, reader)
    shard = catalog / "northwind-home" / "feed-000.json"

    shard.write_bytes(shard.read_bytes() + b"\n")
    os.utime(shard, ns=(OLD_MTIME_NS, OLD_MTIME_NS))  # only the size differs

    assert source_fingerprint(northwind, reader) != before


def test_changes_with_a_removed_shard(
    catalog: Path, config: IngestionConfig, reader: SourceReader
) -> None:
    acme = config.get("acme-outdoor")
    before = source_fingerprint(acme, reader)

    (catalog / "acme-outdoor" / "feed" / "feed-001.json").unlink()

    assert source_fingerprint(acme, reader) != before


@pytest.mark.parametrize(
    ("name", "registry"),
    [
        ("acme-outdoor", "acme-outdoor/brand-registry.jsonld"),
        ("mesh-market", "mesh-market/registry.jsonld"),
    ],
)
def test_changes_with_the_registry(
    catalog: Path, config: IngestionConfig, reader: SourceReader, name: str, registry: str
) -> None:
    ingestor = config.get(name)
    before = source_fingerprint(ingestor, reader)

    rewrite(catalog / registry, b'"description"', b'"Description"')

    assert source_fingerprint(ingestor, reader) != before


def test_changes_with_the_feed_index(
    catalog: Path, config: IngestionConfig, reader: SourceReader
) -> None:
    acme = config.get("acme-outdoor")
    before = source_fingerprint(acme, reader)

    rewrite(catalog / "acme-outdoor" / "feed" / "feed.json", b"06:05:00Z", b"06:06:00Z")

    assert source_fingerprint(acme, reader) != before


@pytest.mark.parametrize(
    "changed",
    [
        "mesh-market/feeds/brightwave-audio/feed-000.json",
        "mesh-market/feeds/brightwave-audio/feed.json",
        "mesh-market/feeds/copperline-kitchen/feed-000.json",
    ],
)
def test_cmp_changes_with_a_selected_organizations_feed(
    catalog: Path, config: IngestionConfig, reader: SourceReader, changed: str
) -> None:
    mesh = config.get("mesh-market")
    before = source_fingerprint(mesh, reader)

    rewrite(catalog / changed, b"https", b"HTTPS")

    assert source_fingerprint(mesh, reader) != before


@pytest.mark.parametrize(
    "changed",
    [
        "mesh-market/feeds/fernleaf-botanicals/feed-000.json",
        "mesh-market/feeds/fernleaf-botanicals/feed.json",
    ],
)
def test_cmp_ignores_the_feed_of_an_unselected_organization(
    catalog: Path, config: IngestionConfig, reader: SourceReader, changed: str
) -> None:
    mesh = config.get("mesh-market")
    before = source_fingerprint(mesh, reader)

    rewrite(catalog / changed, b"https", b"HTTPS")

    assert source_fingerprint(mesh, reader) == before


def test_cmp_ignores_a_broken_feed_of_an_unselected_organization(
    catalog: Path, config: IngestionConfig, reader: SourceReader
) -> None:
    mesh = config.get("mesh-market")
    before = source_fingerprint(mesh, reader)

    (catalog / "mesh-market/feeds/fernleaf-botanicals/feed.json").write_bytes(b"{broken")

    assert source_fingerprint(mesh, reader) == before


@pytest.mark.parametrize(
    ("name", "index"),
    [
        ("acme-outdoor", "acme-outdoor/feed/feed.json"),
        ("northwind-home", "northwind-home/feed.json"),
        ("mesh-market", "mesh-market/feeds/brightwave-audio/feed.json"),
    ],
)
def test_broken_index_still_yields_a_fingerprint(
    catalog: Path, config: IngestionConfig, reader: SourceReader, name: str, index: str
) -> None:
    ingestor = config.get(name)
    good = source_fingerprint(ingestor, reader)

    (catalog / index).write_bytes(b'{"@type": "ProductFeedIndex", "shards": [')
    broken = source_fingerprint(ingestor, reader)

    assert broken != good
    assert source_fingerprint(ingestor, reader) == broken  # stable while broken


def test_broken_or_missing_inputs_are_folded_in(
    catalog: Path, config: IngestionConfig, reader: SourceReader
) -> None:
    mesh = config.get("mesh-market")
    good = source_fingerprint(mesh, reader)
    registry = catalog / "mesh-market" / "registry.jsonld"

    registry.write_bytes(b"[")
    malformed = source_fingerprint(mesh, reader)
    registry.unlink()
    missing = source_fingerprint(mesh, reader)
    (catalog / "acme-outdoor" / "feed" / "feed.json").unlink()
    acme_without_index = source_fingerprint(config.get("acme-outdoor"), reader)

    assert len({good, malformed, missing}) == 3
    assert len(acme_without_index) == 64


def test_filter_naming_an_absent_organization_is_folded_in(
    config: IngestionConfig, reader: SourceReader
) -> None:
    mesh = config.get("mesh-market")
    absent = IngestorConfig(
        name=mesh.name,
        source_type="cmp",
        registry=mesh.registry,
        feed_path=None,
        organizations=(*mesh.organizations, "urn:cmp:orgid:not-in-the-registry"),
        schedule=mesh.schedule,
    )

    assert source_fingerprint(absent, reader) != source_fingerprint(mesh, reader)


def test_http_registry_error_is_folded_in(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    with LoopbackServer() as server, SourceReader(timeout_s=2) as reader:
        server.routes["/feed.json"] = Route(200, b'{"@type": "ProductFeedIndex", "shards": []}')
        remote = IngestorConfig(
            name="remote",
            source_type="http",
            registry=server.url("/registry.jsonld"),  # 404
            feed_path=server.url("/feed.json"),
            organizations=(),
            schedule="0 * * * *",
        )

        assert len(source_fingerprint(remote, reader)) == 64
