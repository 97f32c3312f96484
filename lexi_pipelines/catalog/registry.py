"""Registry ingestion: organizations, their brands and category slugs, in one transaction."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from lexi_pipelines.catalog.config import IngestorConfig
from lexi_pipelines.catalog.errors import CatalogInputError
from lexi_pipelines.catalog.naming import category_rows, content_hash, name_key, synthetic_brand_urn
from lexi_pipelines.catalog.parsing import RegistryOrganization, parse_registry
from lexi_pipelines.catalog.sources import SourceReader
from lexi_pipelines.db.bulk import bulk_upsert, delete_by_keys
from lexi_pipelines.db.models import Brand, Category, Organization, OrganizationCategory, table_of


def organization_row(
    urn: str,
    ingestor: str,
    name: str,
    content_hash: str,
    now: datetime,
    *,
    seen_only_in_feed: bool = False,
    description: str | None = None,
    url: str | None = None,
    logo: str | None = None,
    same_as: list[str] | None = None,
    feed_url: str | None = None,
) -> dict[str, Any]:
    """An ``organizations`` row, from a registry entry or (``seen_only_in_feed``) a feed."""
    return {
        "urn": urn,
        "ingestor": ingestor,
        "name": name,
        "description": description,
        "url": url,
        "logo": logo,
        "same_as": same_as or [],
        "feed_url": feed_url,
        "seen_only_in_feed": seen_only_in_feed,
        "content_hash": content_hash,
        "created_at": now,
        "updated_at": now,
    }


def brand_row(
    urn: str,
    organization_urn: str,
    name: str,
    content_hash: str,
    now: datetime,
    *,
    logo: str | None = None,
    seen_only_in_feed: bool = False,
) -> dict[str, Any]:
    """A ``brands`` row, from a registry entry or (``seen_only_in_feed``) a feed."""
    return {
        "urn": urn,
        "organization_urn": organization_urn,
        "name": name,
        "name_key": name_key(name),
        "logo": logo,
        "seen_only_in_feed": seen_only_in_feed,
        "content_hash": content_hash,
        "created_at": now,
        "updated_at": now,
    }


@dataclass
class RegistryResult:
    organizations: list[str] = field(default_factory=list)
    organizations_inserted: int = 0
    organizations_updated: int = 0
    organizations_unchanged: int = 0
    brands_written: int = 0
    categories: int = 0
    organizations_without_feed: list[str] = field(default_factory=list)
    duration_s: float = 0.0
    preview: list[dict[str, Any]] = field(default_factory=list)


def select_organizations(
    ingestor: IngestorConfig, organizations: list[RegistryOrganization], location: str
) -> list[RegistryOrganization]:
    if not ingestor.organizations:
        return organizations
    wanted = set(ingestor.organizations)
    missing = sorted(wanted - {o.urn for o in organizations})
    if missing:
        raise CatalogInputError(
            location,
            f"filter.organization of ingestor '{ingestor.name}' names organizations absent "
            f"from the registry: {', '.join(missing)}",
            field="identifier",
        )
    return [o for o in organizations if o.urn in wanted]


def ingest_registry(
    engine: Engine,
    ingestor: IngestorConfig,
    reader: SourceReader,
    *,
    now: datetime | None = None,
) -> RegistryResult:
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    document = reader.fetch(ingestor.registry)
    organizations = select_organizations(ingestor, parse_registry(document), ingestor.registry)
    result = RegistryResult(organizations=[o.urn for o in organizations])
    with engine.begin() as conn:
        _write_registry(conn, ingestor, organizations, now, result)
    result.organizations_without_feed = [o.urn for o in organizations if not o.feed_url]
    result.preview = [
        {
            "organization": o.name,
            "urn": o.urn,
            "brands": ", ".join(b.name for b in o.brands),
            "categories": ", ".join(o.categories),
            "feed": o.feed_url or "",
        }
        for o in organizations[:10]
    ]
    result.duration_s = time.perf_counter() - started
    return result


def _write_registry(
    conn: Connection,
    ingestor: IngestorConfig,
    organizations: list[RegistryOrganization],
    now: datetime,
    result: RegistryResult,
) -> None:
    org_table = table_of(Organization)
    stored = dict(
        conn.execute(
            select(org_table.c.urn, org_table.c.content_hash).where(
                org_table.c.urn.in_([o.urn for o in organizations])
            )
        ).all()
    )
    org_rows: list[dict[str, Any]] = []
    brand_rows: list[dict[str, Any]] = []
    category_by_id: dict[str, dict[str, Any]] = {}
    links: list[dict[str, str]] = []
    for org in organizations:
        digest = content_hash([ingestor.name, org.raw])
        if stored.get(org.urn) == digest:
            result.organizations_unchanged += 1
            continue
        if org.urn in stored:
            result.organizations_updated += 1
        else:
            result.organizations_inserted += 1
        org_rows.append(
            organization_row(
                org.urn,
                ingestor.name,
                org.name,
                digest,
                now,
                description=org.description,
                url=org.url,
                logo=org.logo,
                same_as=org.same_as,
                feed_url=org.feed_url,
            )
        )
        for brand in org.brands:
            urn = brand.urn or synthetic_brand_urn(org.urn, brand.name)
            digest_of_brand = content_hash([urn, org.urn, brand.name, brand.logo])
            brand_rows.append(
                brand_row(urn, org.urn, brand.name, digest_of_brand, now, logo=brand.logo)
            )
        for slug in org.categories:
            rows = category_rows(slug, now)
            for row in rows:
                category_by_id.setdefault(row["id"], row)
            links.append({"organization_urn": org.urn, "category_id": rows[-1]["id"]})
    result.categories = len(category_by_id)
    if not org_rows:
        return
    bulk_upsert(conn, org_table, org_rows)
    # Brands named twice in one registry would make one upsert statement touch a row twice.
    unique_brands = list({row["urn"]: row for row in brand_rows}.values())
    result.brands_written = bulk_upsert(conn, table_of(Brand), unique_brands)
    bulk_upsert(conn, table_of(Category), list(category_by_id.values()), update=False)
    link_table = table_of(OrganizationCategory)
    delete_by_keys(conn, link_table, "organization_urn", [row["urn"] for row in org_rows])
    unique_links = list({(r["organization_urn"], r["category_id"]): r for r in links}.values())
    bulk_upsert(conn, link_table, unique_links, update=False)
