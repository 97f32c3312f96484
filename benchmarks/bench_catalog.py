"""Catalog ingestion benchmark: set-based writes against the seed's per-item ORM writes.

Generates a sharded CMP feed (default 100,000 products with groups and offers), ingests it
into a fresh PostgreSQL database and prints:

- first ingest: products/s (registry + feed, parse and write);
- unchanged re-ingest time, and its speed-up over the first ingest;
- a partial change (10% of shards re-priced);
- the per-item ORM baseline (one ORM object and flush per item, as discovery-node wrote
  them) on the same parsed feed, and the ratio of the two write rates.

The baseline is slow, so by default it runs on the first ``--baseline-n`` products only and
its rate is products/s over that subset. Usage::

    python benchmarks/bench_catalog.py [--n 100000] [--baseline-n 20000] [--url URL]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from feedgen import generate_catalog, mutate_shards

from lexi_pipelines.catalog.config import load_ingestion_config
from lexi_pipelines.catalog.feed import feed_index_locations, ingest_feed, list_shards
from lexi_pipelines.catalog.naming import content_hash
from lexi_pipelines.catalog.parsing import parse_shard
from lexi_pipelines.catalog.registry import ingest_registry
from lexi_pipelines.catalog.sources import SourceReader
from lexi_pipelines.db.engine import ensure_schema, make_engine
from lexi_pipelines.db.models import Brand, Category, Offer, Organization, Product, ProductGroup

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@contextmanager
def scratch_database(admin_url: str, prefix: str) -> Iterator[str]:
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def orm_baseline(url: str, catalog_root: Path, limit: int) -> tuple[int, float]:
    """Per-item ORM writes: for each item a merge (lookup + object) and a flush."""
    config = load_ingestion_config(catalog_root / "ingestion.yaml")
    ingestor = config.ingestors[0]
    engine = make_engine(url)
    ensure_schema(engine)
    with SourceReader() as reader:
        ingest_registry(engine, ingestor, reader)  # same starting point as the fast path
        with engine.connect() as conn:
            orgs = conn.execute(select(Organization.urn, Organization.feed_url)).all()
        shards, _ = list_shards(
            ingestor, reader, feed_index_locations(ingestor, orgs), {o[0] for o in orgs}
        )
        documents = [reader.fetch(s.location) for s in shards]
    items = [
        (s, item)
        for s, parsed in zip(shards, map(parse_shard, documents), strict=True)
        for item in parsed
    ]
    now = datetime.now(UTC)
    written = 0
    started = time.perf_counter()
    with Session(engine) as session:
        brands = {b.name.lower(): b.urn for b in session.scalars(select(Brand))}
        for shard, item in items:
            if written >= limit:
                break
            category_id = None
            if item.category_path:
                category_id = item.category_path.lower()
                if session.get(Category, category_id) is None:
                    session.add(
                        Category(
                            id=category_id,
                            name=item.category_path,
                            path=item.category_path,
                            created_at=now,
                        )
                    )
            common = dict(
                urn=item.urn,
                ingestor=ingestor.name,
                organization_urn=shard.organization_urn,
                brand_urn=brands.get((item.brand_name or "").lower()),
                category_id=category_id,
                name=item.name,
                description=item.description,
                url=item.url,
                media=item.media,
                shard_url=shard.location,
                created_at=now,
                updated_at=now,
            )
            if item.kind == "ProductGroup":
                session.merge(
                    ProductGroup(
                        **common,
                        group_code=item.group_code,
                        varies_by=item.varies_by,
                        content_hash=content_hash(item.urn),
                    )
                )
                session.flush()
                continue
            session.merge(
                Product(
                    **common,
                    sku=item.sku,
                    image=item.image,
                    variant_of=item.variant_of,
                    additional_properties=item.additional_properties,
                    content_hash=content_hash(item.urn),
                )
            )
            for n, offer in enumerate(item.offers):
                session.merge(
                    Offer(
                        product_urn=item.urn,
                        position=n,
                        price=offer.price,
                        price_currency=offer.price_currency,
                        availability=offer.availability,
                        inventory_level=offer.inventory_level,
                        price_valid_until=offer.price_valid_until,
                        price_specification=offer.price_specification,
                    )
                )
            session.flush()
            written += 1
        session.commit()
    elapsed = time.perf_counter() - started
    engine.dispose()
    return written, elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="products in the feed")
    parser.add_argument(
        "--baseline-n",
        type=int,
        default=20_000,
        help="products written by the per-item ORM baseline",
    )
    parser.add_argument(
        "--url",
        default=os.environ.get("LEXI_BENCH_ADMIN_URL", DEFAULT_ADMIN_URL),
        help="admin URL of a PostgreSQL server (scratch databases are created)",
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="lexi-bench-") as tmp:
        started = time.perf_counter()
        catalog = generate_catalog(Path(tmp), args.n)
        print(
            f"generated {catalog.n_products:,} products + {catalog.n_groups:,} groups in "
            f"{len(catalog.shard_paths)} shards ({time.perf_counter() - started:.1f}s)"
        )
        ingestor = load_ingestion_config(catalog.ingestion_yaml).ingestors[0]

        with scratch_database(args.url, "lexi_bench") as url:
            engine = make_engine(url)
            ensure_schema(engine)
            with SourceReader() as reader:
                t0 = time.perf_counter()
                ingest_registry(engine, ingestor, reader)
                first = ingest_feed(engine, ingestor, reader)
                first_s = time.perf_counter() - t0
                t0 = time.perf_counter()
                again = ingest_feed(engine, ingestor, reader)
                again_s = time.perf_counter() - t0
                touched = mutate_shards(catalog, 0.1)
                t0 = time.perf_counter()
                partial = ingest_feed(engine, ingestor, reader)
                partial_s = time.perf_counter() - t0
            with engine.connect() as conn:
                stored = conn.scalar(select(func.count()).select_from(Product))
                offers = conn.scalar(select(func.count()).select_from(Offer))
            engine.dispose()
        print(
            f"first {first_s:.2f}s, unchanged {again_s:.3f}s, partial {partial_s:.2f}s; "
            "running the ORM baseline...",
            flush=True,
        )

        with scratch_database(args.url, "lexi_bench_orm") as url:
            base_n, base_s = orm_baseline(url, Path(tmp), args.baseline_n)

    first_rate = first.products_written / first_s
    base_rate = base_n / base_s
    print(f"\nPostgreSQL, {os.cpu_count()} cores")
    print(
        f"first ingest            : {first.products_written:,} products, {offers:,} offers, "
        f"{first.groups_inserted:,} groups in {first_s:.2f}s = {first_rate:,.0f} products/s"
    )
    print(
        f"unchanged re-ingest     : {again_s:.3f}s ({again.shards_skipped}/{again.shards_total}"
        f" shards skipped, {again.products_written} rows written) = "
        f"{first_s / again_s:,.0f}x faster than first ingest"
    )
    print(
        f"10% shards changed      : {touched} shards, {partial.products_updated:,} products "
        f"updated in {partial_s:.2f}s"
    )
    print(
        f"per-item ORM baseline   : {base_n:,} products in {base_s:.2f}s = "
        f"{base_rate:,.0f} products/s"
    )
    print(f"ratio set-based / ORM   : {first_rate / base_rate:,.1f}x")
    assert stored == first.products_written, (stored, first.products_written)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
