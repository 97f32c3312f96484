"""Cheap change markers for an ingestor's sources, used by the feed-update sensor.

Reads only the registry and the (small) feed indexes; shards are only stat'ed locally or
asked for validators over HTTP, so an idle check costs a few file system calls per shard.
"""

from __future__ import annotations

import hashlib

from lexi_pipelines.catalog.config import IngestorConfig
from lexi_pipelines.catalog.errors import CatalogInputError
from lexi_pipelines.catalog.feed import feed_index_locations
from lexi_pipelines.catalog.locations import parent_location, resolve_location
from lexi_pipelines.catalog.parsing import parse_feed_index, parse_registry
from lexi_pipelines.catalog.registry import select_organizations
from lexi_pipelines.catalog.sources import SourceReader


def source_fingerprint(ingestor: IngestorConfig, reader: SourceReader) -> str:
    """A digest that changes when the registry, an index or a shard changes.

    Invalid input is folded into the digest rather than raised: a broken file is a change
    worth a run, whose failure then names the file, item and field in the UI.
    """
    parts: list[str] = []
    try:
        parts.append(f"registry {ingestor.registry} {reader.fingerprint(ingestor.registry)}")
        organizations: list[tuple[str, str | None]] = [(o, None) for o in ingestor.organizations]
        if ingestor.source_type == "cmp":
            selected = select_organizations(
                ingestor, parse_registry(reader.fetch(ingestor.registry)), ingestor.registry
            )
            organizations = [(o.urn, o.feed_url) for o in selected]
        for _, index_location in feed_index_locations(ingestor, organizations):
            parts.append(f"index {index_location} {reader.fingerprint(index_location)}")
            base = parent_location(index_location)
            for index in parse_feed_index(reader.fetch(index_location)):
                for url in index.shard_urls:
                    shard = resolve_location(base, url)
                    parts.append(f"shard {shard} {reader.fingerprint(shard)}")
    except CatalogInputError as exc:
        parts.append(f"invalid {exc}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()
