"""Feed ingestion: feed indexes and shards into product groups, products and offers.

Indexes are read and shard locations checked before anything is written; shards are then
parsed by worker processes and written as they arrive, all in one transaction per ingestor,
so bad input found in any shard, or a crash, leaves the previous state intact. Shards whose
content (and organization registry entry) did not change since the last ingest are skipped,
which makes re-ingesting an unchanged feed nearly free.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from sqlalchemy import Connection, Engine, select

from lexi_pipelines.catalog.config import IngestorConfig
from lexi_pipelines.catalog.errors import CatalogInputError
from lexi_pipelines.catalog.feed_writer import FeedResult, FeedWriter, RegistryState
from lexi_pipelines.catalog.locations import (
    Document,
    is_url,
    is_within,
    parent_location,
    resolve_location,
)
from lexi_pipelines.catalog.parsing import FeedIndex, parse_feed_index
from lexi_pipelines.catalog.rows import PreparedShard, ShardTask, prepare_shard
from lexi_pipelines.catalog.sources import SourceReader
from lexi_pipelines.common.memory import paused_gc
from lexi_pipelines.common.processes import forkserver_pool, main_module_hidden
from lexi_pipelines.db.bulk import bulk_upsert
from lexi_pipelines.db.models import Brand, FeedShard, Organization, table_of

__all__ = ["FeedResult", "ShardRef", "feed_index_locations", "ingest_feed", "list_shards"]

# Below this many bytes of changed shards, process start-up costs more than it saves.
PARALLEL_PARSE_MIN_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class ShardRef:
    location: str
    organization_urn: str


def feed_index_locations(
    ingestor: IngestorConfig, organizations: Iterable[tuple[str, str | None]]
) -> list[tuple[str | None, str]]:
    """(organization hint, index location) pairs; ``cmp`` takes them from the registry."""
    if ingestor.source_type != "cmp":
        assert ingestor.feed_path is not None
        return [(None, ingestor.feed_path)]
    registry_dir = parent_location(ingestor.registry)
    return [
        (urn, resolve_location(registry_dir, feed_url))
        for urn, feed_url in organizations
        if feed_url
    ]


def list_shards(
    ingestor: IngestorConfig,
    reader: SourceReader,
    indexes: list[tuple[str | None, str]],
    known_organizations: set[str],
) -> tuple[list[ShardRef], dict[str, str | None]]:
    """Read the feed indexes; return the shards and organizations named only by a feed."""
    shards: dict[str, ShardRef] = {}
    new_organizations: dict[str, str | None] = {}
    for hint, index_location in indexes:
        document = reader.fetch(index_location)
        for position, index in enumerate(parse_feed_index(document), start=1):
            organization = _index_organization(
                ingestor, index, hint, known_organizations, index_location, position
            )
            if organization not in known_organizations:
                new_organizations.setdefault(organization, index.organization_name)
            base = parent_location(index_location)
            for shard_no, url in enumerate(index.shard_urls):
                location = resolve_location(base, url)
                if not is_within(base, location):
                    raise CatalogInputError(
                        index_location,
                        f"shard path {url!r} escapes the feed's folder {base}",
                        item=f"index {position}",
                        field=f"shards[{shard_no}].url",
                    )
                shards.setdefault(location, ShardRef(location, organization))
    return list(shards.values()), new_organizations


def _index_organization(
    ingestor: IngestorConfig,
    index: FeedIndex,
    hint: str | None,
    known: set[str],
    location: str,
    position: int,
) -> str:
    if index.organization_urn:
        return index.organization_urn
    if hint:
        return hint
    if len(known) == 1:
        return next(iter(known))
    raise CatalogInputError(
        location,
        f"the index names no organization and ingestor '{ingestor.name}' has "
        f"{len(known)} registry organizations to choose from",
        item=f"index {position}",
        field="orgid",
    )


def fetch_all(reader: SourceReader, locations: list[str]) -> list[Document]:
    """The documents, read and digested in threads: reads and hashing release the GIL."""
    if len(locations) < 2:
        return [reader.fetch(loc) for loc in locations]
    # Downloads wait on the network; local reads and hashing use the cores.
    workers = 8 if any(is_url(loc) for loc in locations) else os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(partial(_fetch_digested, reader), locations))


def _fetch_digested(reader: SourceReader, location: str) -> Document:
    document = reader.fetch(location)
    _ = document.sha256  # cached: the change check reads it next
    return document


def _load_registry_state(conn: Connection, ingestor: str) -> RegistryState:
    orgs = table_of(Organization)
    brands = table_of(Brand)
    organizations = {
        urn: (digest, feed_url)
        for urn, digest, feed_url in conn.execute(
            select(orgs.c.urn, orgs.c.content_hash, orgs.c.feed_url).where(
                orgs.c.ingestor == ingestor
            )
        )
    }
    brand_urns: set[str] = set()
    brands_by_name: dict[str, dict[str, str]] = {}
    for urn, org, key in conn.execute(
        select(brands.c.urn, brands.c.organization_urn, brands.c.name_key)
    ):
        brand_urns.add(urn)
        brands_by_name.setdefault(org, {}).setdefault(key, urn)
    return RegistryState(organizations, frozenset(brand_urns), brands_by_name)


def prepare_shards(tasks: list[ShardTask]) -> Iterator[PreparedShard]:
    """Prepare shards in order, on every core when there is enough work to pay for processes."""
    total = sum(len(t.document.content) for t in tasks)
    workers = min(os.cpu_count() or 1, len(tasks))
    if workers < 2 or total < PARALLEL_PARSE_MIN_BYTES:
        yield from map(prepare_shard, tasks)
        return
    pool = forkserver_pool(workers, ["lexi_pipelines.catalog.rows"])
    try:
        # map() submits every task, and so starts every worker, before it returns.
        with main_module_hidden():
            results = pool.map(prepare_shard, tasks)
        yield from results
    finally:
        # On bad input the caller stops reading: do not parse the remaining shards.
        pool.shutdown(wait=True, cancel_futures=True)


def ingest_feed(
    engine: Engine,
    ingestor: IngestorConfig,
    reader: SourceReader,
    *,
    now: datetime | None = None,
) -> FeedResult:
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    result = FeedResult()
    with engine.connect() as conn:
        state = _load_registry_state(conn, ingestor.name)
    if not state.organizations:
        raise CatalogInputError(
            ingestor.registry,
            f"no organizations stored for ingestor '{ingestor.name}'; "
            "materialize catalog/brand_registry for this partition first",
        )
    selected = [
        (urn, feed_url)
        for urn, (_, feed_url) in state.organizations.items()
        if not ingestor.organizations or urn in ingestor.organizations
    ]
    shards, new_orgs = list_shards(
        ingestor, reader, feed_index_locations(ingestor, selected), set(state.organizations)
    )
    result.shards_total = len(shards)
    documents = fetch_all(reader, [s.location for s in shards])
    with engine.begin() as conn, paused_gc():
        _ingest_shards(conn, ingestor.name, state, shards, documents, new_orgs, now, result)
    result.duration_s = time.perf_counter() - started
    return result


def _ingest_shards(
    conn: Connection,
    ingestor: str,
    state: RegistryState,
    shards: list[ShardRef],
    documents: list[Document],
    new_orgs: dict[str, str | None],
    now: datetime,
    result: FeedResult,
) -> None:
    shard_table = table_of(FeedShard)
    stored_shards = {
        url: (digest, registry_digest, count)
        for url, digest, registry_digest, count in conn.execute(
            select(
                shard_table.c.url,
                shard_table.c.content_hash,
                shard_table.c.registry_hash,
                shard_table.c.item_count,
            ).where(shard_table.c.ingestor == ingestor)
        )
    }
    changed: list[tuple[ShardRef, Document]] = []
    for shard, document in zip(shards, documents, strict=True):
        stored = stored_shards.get(shard.location)
        fresh = (document.sha256, state.registry_digest(shard.organization_urn))
        if stored and stored[:2] == fresh:
            result.shards_skipped += 1
            result.products_unchanged += stored[2]
        else:
            changed.append((shard, document))
    current = {s.location for s in shards}
    removed = [url for url in stored_shards if url not in current]
    result.shards_ingested = len(changed)
    result.shards_removed = len(removed)
    if not changed and not removed:
        return

    rewritten = {shard.location for shard, _ in changed} | set(removed)
    writer = FeedWriter(conn, ingestor, state, now, result, rewritten)
    writer.write_organizations(new_orgs)
    tasks = [
        ShardTask(
            document=document,
            ingestor=ingestor,
            organization_urn=shard.organization_urn,
            brands=state.brands(shard.organization_urn),
            now=now,
            copy_text=writer.copy_text,
        )
        for shard, document in changed
    ]
    shard_rows = []
    for (shard, document), batch in zip(changed, prepare_shards(tasks), strict=True):
        writer.add(batch)
        shard_rows.append(
            {
                "ingestor": ingestor,
                "url": shard.location,
                "organization_urn": shard.organization_urn,
                "content_hash": document.sha256,
                "registry_hash": state.registry_digest(shard.organization_urn),
                "item_count": batch.item_count,
                "ingested_at": now,
            }
        )
    writer.finish()
    bulk_upsert(conn, shard_table, shard_rows, preserve=())
    if removed:
        conn.execute(
            shard_table.delete().where(
                shard_table.c.ingestor == ingestor, shard_table.c.url.in_(removed)
            )
        )
