"""Synthetic CommerceMesh (CMP) catalogue generator for benchmarks and tests.

Writes one organization's brand registry, a sharded product feed and a one-ingestor
``ingestion.yaml`` under a root folder::

    root/ingestion.yaml            ingestor "bench", source_type local
    root/brand-registry.jsonld     one Organization with ``brands`` Brand entries
    root/feed/feed.json            ProductFeedIndex
    root/feed/feed-000.json ...    ItemList shards (compact JSON)

Products go to shard ``int.from_bytes(sha1(sku), "big") % shard_count``, ProductGroups to
the shard of their ``productGroupID``, as CMP producers do. Output depends only on the
arguments (fixed timestamps, seeded RNG), so tests can assert exact counts.

Standard library only; orjson is used when importable because serialisation dominates the
run time. CLI: ``python benchmarks/feedgen.py OUT_DIR --n 100000``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

__all__ = ["GeneratedCatalog", "generate_catalog", "mutate_shards", "shard_for"]


def _std_dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


_dumps: Callable[[Any], bytes]
_loads: Callable[[bytes], Any]
try:
    import orjson

    _dumps, _loads, JSON_BACKEND = orjson.dumps, orjson.loads, "orjson"
except ImportError:  # pragma: no cover - depends on the environment
    _dumps, _loads, JSON_BACKEND = _std_dumps, json.loads, "json"

REGISTRY_CONTEXT = {"schema": "https://schema.org", "cmp": "https://schema.commercemesh.ai/ns#"}
INDEX_CONTEXT = "https://schema.commercemesh.org/v0.1"
HOST = "https://bench.example"
# Fixed, not "now": identical arguments must give byte-identical files.
GENERATED_AT = "2026-01-01T00:00:00Z"
PRICE_VALID_UNTIL = "2027-06-30T23:59:59Z"
IN_STOCK = "https://schema.org/InStock"
OUT_OF_STOCK = "https://schema.org/OutOfStock"
# Auto shard count is ceil(n_products / this). Items average ~1.1 KB compact and groups add
# ~15% items, so shards land near 4 MB: under the 5 MB CMP limit despite hash imbalance.
PRODUCTS_PER_SHARD = 3000

# (category path, product noun, min price, max price): a small fixed taxonomy so category
# rows stay few while paths still have three levels.
TAXONOMY: tuple[tuple[str, str, float, float], ...] = (
    ("Outdoor > Tents > Backpacking", "Tent", 120.0, 650.0),
    ("Outdoor > Sleeping > Sleeping Bags", "Sleeping Bag", 60.0, 480.0),
    ("Apparel > Outerwear > Rain Jackets", "Rain Jacket", 70.0, 380.0),
    ("Apparel > Footwear > Trail Runners", "Trail Runner", 80.0, 210.0),
    ("Home > Textiles > Throws", "Throw", 25.0, 160.0),
    ("Home > Lighting > Table Lamps", "Table Lamp", 30.0, 240.0),
    ("Kitchen > Cookware > Skillets", "Skillet", 20.0, 190.0),
    ("Electronics > Audio > Headphones", "Headphones", 25.0, 450.0),
    ("Electronics > Audio > Portable Speakers", "Speaker", 30.0, 300.0),
    ("Garden > Tools > Pruners", "Pruner", 12.0, 90.0),
    ("Sports > Cycling > Helmets", "Helmet", 40.0, 260.0),
    ("Toys > Building > Block Sets", "Block Set", 10.0, 150.0),
)
ADJECTIVES = (
    "Alpine", "Coastal", "Urban", "Summit", "Harbor", "Meadow", "Granite", "Aurora",
    "Canyon", "Tidal", "Juniper", "Basalt", "Prairie", "Glacier", "Ember", "Willow",
)  # fmt: skip
BRAND_HEADS = (
    "North", "Stone", "Cedar", "Blue", "Iron", "Silver", "Copper", "Maple", "Storm", "Bright",
)  # fmt: skip
BRAND_TAILS = ("peak", "field", "works", "line", "craft", "wave", "forge", "harbor", "ridge")
COLORS = ("Black", "Slate", "Olive", "Sand", "Ember Red", "Glacier Blue", "Moss", "Ivory")
SIZES = ("XS", "S", "M", "L", "XL")
EXTRA_PROPERTIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Material", ("Recycled nylon", "Organic cotton", "Aluminium", "Cast iron", "Bamboo")),
    ("Weight", ("120 g", "340 g", "780 g", "1.2 kg", "2.4 kg")),
    ("Warranty", ("1 year", "2 years", "5 years", "Lifetime")),
    ("Country of Origin", ("Portugal", "Vietnam", "Canada", "Mexico", "Taiwan")),
)


@dataclass(frozen=True)
class GeneratedCatalog:
    root: Path
    ingestion_yaml: Path
    registry: Path
    feed_index: Path
    shard_paths: list[Path]
    n_products: int
    n_groups: int


def shard_for(key: str, shard_count: int) -> int:
    """Shard index of a SKU (or productGroupID): SHA-1 as a big-endian integer modulo N."""
    return int.from_bytes(hashlib.sha1(key.encode("utf-8")).digest(), "big") % shard_count


def brand_names(count: int) -> list[str]:
    """Deterministic, unique brand names ("Northpeak", "Stonepeak", ...)."""
    names = []
    combos = len(BRAND_HEADS) * len(BRAND_TAILS)
    for i in range(count):
        head = BRAND_HEADS[i % len(BRAND_HEADS)]
        tail = BRAND_TAILS[(i // len(BRAND_HEADS)) % len(BRAND_TAILS)]
        # Past the word combinations a numeric suffix keeps names unique.
        suffix = f" {i // combos + 1}" if i >= combos else ""
        names.append(f"{head}{tail}{suffix}")
    return names


def _registry(org_urn: str, brands: list[str]) -> dict[str, Any]:
    return {
        "@context": REGISTRY_CONTEXT,
        "@type": "Organization",
        "name": "Bench Outfitters",
        "description": "Synthetic organization for lexi_pipelines benchmarks.",
        "url": HOST,
        "logo": f"{HOST}/assets/logo.png",
        "sameAs": [f"{HOST}/about"],
        "brand": [
            {
                "@type": "Brand",
                "name": name,
                "logo": f"{HOST}/assets/brands/{name.lower().replace(' ', '-')}.png",
                "identifier": {
                    "@type": "PropertyValue",
                    "propertyID": "cmp:brandId",
                    # uuid5 of the org and position: stable across runs, unique across orgs.
                    "value": f"urn:cmp:brand:{uuid.uuid5(uuid.NAMESPACE_URL, f'{org_urn}/{i}')}",
                },
            }
            for i, name in enumerate(brands)
        ],
        "cmp:category": sorted({path.split(" > ")[0].lower() for path, *_ in TAXONOMY}),
        "cmp:productFeed": {"@type": "DataFeed", "url": "feed/feed.json"},
        "identifier": {"@type": "PropertyValue", "propertyID": "cmp:orgId", "value": org_urn},
    }


def _offer(price: float, stock: int) -> dict[str, Any]:
    return {
        "@type": "Offer",
        "price": price,
        "priceCurrency": "USD",
        "availability": IN_STOCK if stock > 0 else OUT_OF_STOCK,
        "inventoryLevel": {"@type": "QuantitativeValue", "value": stock},
        "priceValidUntil": PRICE_VALID_UNTIL,
        "priceSpecification": {
            "@type": "PriceSpecification",
            "price": price,
            "priceCurrency": "USD",
        },
    }


def _media(url: str, caption: str) -> list[dict[str, Any]]:
    return [
        {
            "@type": "ImageObject",
            "url": url,
            "caption": caption,
            "width": 1200,
            "height": 1200,
            "encodingFormat": "image/jpeg",
        }
    ]


def _extras(rng: random.Random, count: int) -> list[dict[str, Any]]:
    # Rotating from a random start gives distinct property names without rng.sample's cost.
    start = rng.randrange(len(EXTRA_PROPERTIES))
    out = []
    for i in range(count):
        name, values = EXTRA_PROPERTIES[(start + i) % len(EXTRA_PROPERTIES)]
        out.append({"@type": "PropertyValue", "name": name, "value": rng.choice(values)})
    return out


def _stock(rng: random.Random) -> int:
    # Roughly 1 in 12 offers is sold out, so availability is not constant.
    return 0 if rng.random() < 0.08 else rng.randint(1, 250)


def _write_json(path: Path, obj: Any) -> None:
    # Registry and index are small: pretty-printed so they can be read when debugging.
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _shard_header() -> bytes:
    head = _dumps({"@context": REGISTRY_CONTEXT, "@type": "ItemList"})
    return head[:-1] + b',"itemListElement":['


def _index(org_urn: str, shard_names: list[str], stamps: list[str]) -> dict[str, Any]:
    return {
        "@context": INDEX_CONTEXT,
        "@type": "ProductFeedIndex",
        "version": "0.1",
        "lastUpdated": max(stamps, default=GENERATED_AT),
        "orgid": org_urn,
        "totalShards": len(shard_names),
        "shards": [{"url": u, "lastUpdated": t} for u, t in zip(shard_names, stamps, strict=True)],
    }


def generate_catalog(
    root: Path,
    n_products: int = 100_000,
    *,
    shard_count: int | None = None,
    group_every: int = 5,
    seed: int = 7,
    org_urn: str = "urn:cmp:orgid:bench-0000",
    brands: int = 20,
) -> GeneratedCatalog:
    """Write a synthetic catalogue of ``n_products`` Products under ``root``.

    Every ``group_every``-th product family (0 disables groups) is a ProductGroup with 2-4
    variant Products; the other families are single Products. ``n_products`` counts Products
    only, so the feed holds ``n_products + n_groups`` items. Stale ``feed-*.json`` files in
    ``root/feed`` are removed so the folder matches the index.
    """
    if n_products < 0:
        raise ValueError("n_products must be >= 0")
    if brands < 1:
        raise ValueError("brands must be >= 1")
    root = Path(root)
    if shard_count is None:
        n_shards = max(1, math.ceil(n_products / PRODUCTS_PER_SHARD))
    elif shard_count < 1:
        raise ValueError("shard_count must be >= 1")
    else:
        n_shards = shard_count

    feed_dir = root / "feed"
    feed_dir.mkdir(parents=True, exist_ok=True)
    for stale in feed_dir.glob("feed-*.json"):
        stale.unlink()

    rng = random.Random(seed)
    names = brand_names(brands)
    # SKUs carry a digest of the org URN so catalogues of different orgs never share @ids.
    prefix = "B" + hashlib.sha1(org_urn.encode("utf-8")).hexdigest()[:6].upper()
    # Each shard is accumulated as already-serialised ListItems: ~3x less memory than dicts
    # and one small dumps call per item.
    parts: list[list[bytes]] = [[] for _ in range(n_shards)]

    def emit(key: str, item: dict[str, Any]) -> None:
        bucket = parts[shard_for(key, n_shards)]
        bucket.append(_dumps({"@type": "ListItem", "position": len(bucket) + 1, "item": item}))

    made = groups = family = 0
    while made < n_products:
        category, noun, lo, hi = TAXONOMY[rng.randrange(len(TAXONOMY))]
        brand = names[rng.randrange(len(names))]
        adjective = ADJECTIVES[rng.randrange(len(ADJECTIVES))]
        code = f"{prefix}-{family:07d}"
        title = f"{brand} {adjective} {noun} {family % 900 + 100}"
        page = f"{HOST}/p/{code.lower()}"
        base_price = round(rng.uniform(lo, hi), 2)
        is_group = group_every > 0 and family % group_every == 0
        if is_group:
            n_variants = min(rng.randint(2, 4), n_products - made)
            group_urn = f"urn:cmp:product:{code}"
            emit(
                code,
                {
                    "@context": "https://schema.org",
                    "@type": "ProductGroup",
                    "@id": group_urn,
                    "name": title,
                    "description": f"{adjective} {noun.lower()} by {brand}, in several options.",
                    "url": page,
                    "brand": {"@type": "Brand", "name": brand},
                    "category": category,
                    "productGroupID": code,
                    "variesBy": ["Color", "Size"],
                    "@cmp:media": _media(f"{HOST}/img/{code}-family.jpg", title),
                },
            )
            groups += 1
            color_start = rng.randrange(len(COLORS))
            for v in range(n_variants):
                sku = f"{code}-{v + 1}"
                color = COLORS[(color_start + v) % len(COLORS)]
                size = SIZES[v % len(SIZES)]
                props = [
                    {"@type": "PropertyValue", "name": "Color", "value": color},
                    {"@type": "PropertyValue", "name": "Size", "value": size},
                    *_extras(rng, rng.randint(0, 2)),
                ]
                emit(
                    sku,
                    _product(
                        sku,
                        f"{title}, {color}, {size}",
                        f"{adjective} {noun.lower()} by {brand} in {color}, size {size}.",
                        f"{page}?variant={v + 1}",
                        brand,
                        category,
                        # Larger sizes cost a little more, as real variants often do.
                        round(base_price * (1 + 0.05 * v), 2),
                        _stock(rng),
                        props,
                        group_urn,
                    ),
                )
            made += n_variants
        else:
            emit(
                code,
                _product(
                    code,
                    title,
                    f"{adjective} {noun.lower()} by {brand}, built for everyday use.",
                    page,
                    brand,
                    category,
                    base_price,
                    _stock(rng),
                    _extras(rng, rng.randint(2, 4)),
                    None,
                ),
            )
            made += 1
        family += 1

    header = _shard_header()
    shard_paths: list[Path] = []
    for i, bucket in enumerate(parts):
        path = feed_dir / f"feed-{i:03d}.json"
        path.write_bytes(header + b",".join(bucket) + b"]}")
        shard_paths.append(path)

    registry = root / "brand-registry.jsonld"
    _write_json(registry, _registry(org_urn, names))
    feed_index = feed_dir / "feed.json"
    _write_json(
        feed_index,
        _index(org_urn, [p.name for p in shard_paths], [GENERATED_AT] * len(shard_paths)),
    )
    ingestion_yaml = root / "ingestion.yaml"
    ingestion_yaml.write_text(
        "# Generated by benchmarks/feedgen.py; paths are relative to this file.\n"
        "ingestion:\n"
        "  - name: bench\n"
        "    source_type: local\n"
        "    registry: brand-registry.jsonld\n"
        "    feed_path: feed/feed.json\n"
        '    schedule: "0 * * * *"\n',
        encoding="utf-8",
    )
    return GeneratedCatalog(
        root=root,
        ingestion_yaml=ingestion_yaml,
        registry=registry,
        feed_index=feed_index,
        shard_paths=shard_paths,
        n_products=made,
        n_groups=groups,
    )


def _product(
    sku: str,
    name: str,
    description: str,
    url: str,
    brand: str,
    category: str,
    price: float,
    stock: int,
    props: list[dict[str, Any]],
    group_urn: str | None,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Product",
        "@id": f"urn:cmp:sku:{sku}",
        "sku": sku,
        "name": name,
        "description": description,
        "url": url,
        "image": f"{HOST}/img/{sku}.jpg",
        "brand": {"@type": "Brand", "name": brand},
        "category": category,
        "offers": _offer(price, stock),
        "additionalProperty": props,
    }
    if group_urn is not None:
        item["isVariantOf"] = {"@type": "ProductGroup", "@id": group_urn}
    item["@cmp:media"] = _media(f"{HOST}/img/{sku}-main.jpg", name)
    return item


def mutate_shards(catalog: GeneratedCatalog, fraction: float, seed: int = 11) -> int:
    """Change every Product price in ``fraction`` of the shards; return the shards touched.

    At least one shard is touched for any ``fraction > 0``. Touched shards are rewritten and
    their ``lastUpdated`` in the index moves one hour past the newest stamp, as a producer
    would publish a partial update; untouched shard files stay byte-identical.
    """
    n = len(catalog.shard_paths)
    k = 0 if fraction <= 0 else min(n, max(1, round(fraction * n)))
    if k == 0:
        return 0
    rng = random.Random(seed)
    chosen = sorted(rng.sample(range(n), k))
    for i in chosen:
        path = catalog.shard_paths[i]
        data = _loads(path.read_bytes())
        for element in data["itemListElement"]:
            offer = element["item"].get("offers")
            if not offer:
                continue
            old = float(offer["price"])
            new = round(old * rng.uniform(0.85, 1.15), 2)
            if new == old:  # a "mutation" must change the value
                new = round(old + 0.01, 2)
            offer["price"] = new
            if isinstance(offer.get("priceSpecification"), dict):
                offer["priceSpecification"]["price"] = new
        path.write_bytes(_dumps(data))

    index = json.loads(catalog.feed_index.read_text(encoding="utf-8"))
    stamps = [s["lastUpdated"] for s in index["shards"]]
    newest = max(datetime.fromisoformat(s.replace("Z", "+00:00")) for s in stamps)
    stamp = (newest + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for i in chosen:
        stamps[i] = stamp
    _write_json(
        catalog.feed_index,
        _index(index["orgid"], [s["url"] for s in index["shards"]], stamps),
    )
    return k


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate a synthetic CMP catalogue.")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--n", type=int, default=100_000, help="number of Products")
    parser.add_argument("--shards", type=int, default=None, help="shard count (default: auto)")
    parser.add_argument("--group-every", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--brands", type=int, default=20)
    parser.add_argument("--org-urn", default="urn:cmp:orgid:bench-0000")
    parser.add_argument(
        "--mutate",
        type=float,
        default=None,
        metavar="FRACTION",
        help="afterwards, change prices in this fraction of shards",
    )
    args = parser.parse_args(argv)

    start = time.perf_counter()
    catalog = generate_catalog(
        args.out_dir,
        args.n,
        shard_count=args.shards,
        group_every=args.group_every,
        seed=args.seed,
        org_urn=args.org_urn,
        brands=args.brands,
    )
    elapsed = time.perf_counter() - start
    sizes = [p.stat().st_size for p in catalog.shard_paths]
    print(
        f"{catalog.n_products} products, {catalog.n_groups} groups in {len(sizes)} shards "
        f"({sum(sizes) / 1e6:.1f} MB, largest {max(sizes) / 1e6:.2f} MB) "
        f"under {catalog.root} in {elapsed:.2f} s [{JSON_BACKEND}]"
    )
    print(f"ingestion config: {catalog.ingestion_yaml}")
    if args.mutate is not None:
        start = time.perf_counter()
        touched = mutate_shards(catalog, args.mutate, seed=args.seed)
        print(f"mutated {touched} shards in {time.perf_counter() - start:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
