"""What gets embedded, and with which metadata, for products and document chunks."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select

from lexi_pipelines.db.models import Brand, Category, Chunk, Document, Offer, Product, table_of
from lexi_pipelines.vectors.index import IndexSpec, MetadataValue

SNIPPET_CHARS = 300


@dataclass(frozen=True)
class IndexItem:
    id: str
    text: str
    metadata: Mapping[str, MetadataValue]

    @property
    def text_hash(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    @property
    def metadata_hash(self) -> str:
        encoded = json.dumps(self.metadata, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(encoded.encode()).hexdigest()


def product_spec(dimension: int) -> IndexSpec:
    return IndexSpec(
        name="products",
        dimension=dimension,
        metric="dotproduct",  # normalized vectors: the same ranking as cosine, and hybrid-ready
        metadata_fields={
            "organization": "string",
            "brand": "string",
            "category": "string",
            "price": "float",
            "currency": "string",
            "availability": "string",
        },
        hybrid=True,
    )


def chunk_spec(dimension: int) -> IndexSpec:
    return IndexSpec(
        name="chunks",
        dimension=dimension,
        metric="dotproduct",
        metadata_fields={"document_id": "string", "ordinal": "int", "path": "string"},
        hybrid=True,
    )


def product_id(urn: str) -> str:
    return f"product:{urn}"


def _attributes(raw: Any) -> list[str]:
    """``Color: Olive`` lines from schema.org PropertyValues."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return []
    lines = []
    for prop in raw or []:
        if isinstance(prop, Mapping):
            name = str(prop.get("name") or prop.get("propertyID") or "").strip()
            value = prop.get("value")
            if name and value not in (None, ""):
                lines.append(f"{name}: {value}")
    return lines


def _drop_empty(metadata: dict[str, MetadataValue | None]) -> dict[str, MetadataValue]:
    # Pinecone refuses null metadata values; absent is the honest encoding.
    return {k: v for k, v in metadata.items() if v is not None and v != ""}


def product_items(engine: Engine, ingestor: str) -> Iterator[IndexItem]:
    """Live products of the ingestor, with their first offer's price."""
    products, brands, categories, offers = (
        table_of(Product),
        table_of(Brand),
        table_of(Category),
        table_of(Offer),
    )
    query = (
        select(
            products.c.urn,
            products.c.organization_urn,
            products.c.name,
            products.c.description,
            products.c.url,
            products.c.additional_properties,
            brands.c.name.label("brand"),
            categories.c.name.label("category_name"),
            products.c.category_id,
            offers.c.price,
            offers.c.price_currency,
            offers.c.availability,
        )
        .outerjoin(brands, brands.c.urn == products.c.brand_urn)
        .outerjoin(categories, categories.c.id == products.c.category_id)
        .outerjoin(offers, (offers.c.product_urn == products.c.urn) & (offers.c.position == 0))
        .where(products.c.ingestor == ingestor, products.c.deleted_at.is_(None))
        .order_by(products.c.urn)
    )
    with engine.connect() as conn:
        for row in conn.execute(query):
            lines = [row.name]
            if row.brand:
                lines.append(f"Brand: {row.brand}")
            if row.category_name or row.category_id:
                lines.append(f"Category: {row.category_name or row.category_id}")
            lines.extend(_attributes(row.additional_properties))
            if row.description:
                lines.append(row.description)
            price = float(row.price) if isinstance(row.price, Decimal | float | int) else None
            availability = (row.availability or "").rsplit("/", 1)[-1] or None
            yield IndexItem(
                id=product_id(row.urn),
                text="\n".join(lines),
                metadata=_drop_empty(
                    {
                        "urn": row.urn,
                        "name": row.name,
                        "organization": row.organization_urn,
                        "brand": row.brand,
                        "category": row.category_id,
                        "price": price,
                        "currency": row.price_currency,
                        "availability": availability,
                        "url": row.url,
                    }
                ),
            )


def chunk_items(engine: Engine, project: str) -> Iterator[IndexItem]:
    """Chunks of the project's documents; ids are the chunk ids."""
    chunks, documents = table_of(Chunk), table_of(Document)
    query = (
        select(
            chunks.c.id,
            chunks.c.document_id,
            chunks.c.ordinal,
            chunks.c.text,
            documents.c.relative_path,
        )
        .join(
            documents,
            (documents.c.project == chunks.c.project) & (documents.c.id == chunks.c.document_id),
        )
        .where(chunks.c.project == project)
        .order_by(chunks.c.document_id, chunks.c.ordinal)
    )
    with engine.connect() as conn:
        for row in conn.execute(query):
            yield IndexItem(
                id=row.id,
                text=row.text,
                metadata={
                    "document_id": row.document_id,
                    "ordinal": row.ordinal,
                    "path": row.relative_path,
                    "snippet": row.text[:SNIPPET_CHARS],
                },
            )
