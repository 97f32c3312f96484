"""Names and keys derived from catalog data: slugs, brand keys, category ids, digests."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any

import orjson

_SLUG_STRIP = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    return _SLUG_STRIP.sub("-", text.lower()).strip("-") or "unnamed"


def name_key(name: str) -> str:
    return " ".join(name.lower().split())


def synthetic_brand_urn(organization_urn: str, brand_name: str) -> str:
    """A stable URN for a brand that has no ``cmp:brandId`` (named only)."""
    return f"urn:lexi:brand:{organization_urn.rsplit(':', 1)[-1]}:{slugify(brand_name)}"


def content_hash(value: Any) -> str:
    payload = orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.sha256(payload).hexdigest()


def category_rows(path: str, now: datetime) -> list[dict[str, Any]]:
    """``"Outdoor > Tents"`` -> rows for ``outdoor`` and ``outdoor/tents`` (parent first)."""
    segments = [s.strip() for s in re.split(r"\s*>\s*|\s*/\s*", path) if s.strip()]
    rows: list[dict[str, Any]] = []
    parent: str | None = None
    for depth in range(len(segments)):
        category_id = "/".join(slugify(s) for s in segments[: depth + 1])
        rows.append(
            {
                "id": category_id,
                "name": segments[depth],
                "path": " > ".join(segments[: depth + 1]),
                "parent_id": parent,
                "created_at": now,
            }
        )
        parent = category_id
    return rows
