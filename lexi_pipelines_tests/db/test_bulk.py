"""Bulk writes: COPY text encoding and upserts keep every value exactly, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from lexi_pipelines.db.bulk import (
    bulk_insert,
    bulk_upsert,
    copy_text_insert,
    copy_text_upsert,
    delete_by_keys,
    existing_keys,
    update_by_keys,
    uses_copy,
)
from lexi_pipelines.db.copy_text import copy_field, copy_line
from lexi_pipelines.db.engine import ensure_schema, make_engine
from lexi_pipelines.db.models import Offer, table_of

NASTY = [
    "plain",
    "tab\there",
    "new\nline",
    "carriage\rreturn",
    "back\\slash",
    "\\N",  # the NULL marker as data
    "ünïcödé ✓ 价格",
    "",
]


@pytest.mark.parametrize("value", NASTY)
def test_copy_line_fast_path_matches_field_by_field(value: str) -> None:
    values = ("key", None, value, Decimal("1.50"), 3, True, datetime(2026, 1, 1, tzinfo=UTC))
    assert copy_line(values) == "\t".join(map(copy_field, values))


def test_copy_field_encodings() -> None:
    assert copy_field(None) == "\\N"
    assert copy_field("a\tb\\c\nd\re") == "a\\tb\\\\c\\nd\\re"
    assert copy_field("nul\x00dropped") == "nuldropped"
    assert copy_field(False) == "f"
    assert copy_field(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05+00:00"


def _offer(position: int, availability: str | None, price: str = "9.99") -> tuple[object, ...]:
    return ("urn:p", position, Decimal(price), "EUR", availability, 5, None, '{"a": "b\\\\c"}')


def test_copy_text_round_trip_on_postgres(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    ensure_schema(engine)
    columns = ("product_urn", "position", "price", "price_currency", "availability",
               "inventory_level", "price_valid_until", "price_specification")  # fmt: skip
    try:
        with engine.begin() as conn:
            assert uses_copy(conn)
            text = "".join(copy_line(_offer(i, v)) + "\n" for i, v in enumerate(NASTY))
            copy_text_insert(conn, table_of(Offer), columns, text)
        with engine.connect() as conn:
            stored = conn.execute(select(table_of(Offer)).order_by(Offer.position)).all()
        assert [row.availability for row in stored] == NASTY
        assert stored[0].price_specification == {"a": "b\\c"}

        with engine.begin() as conn:
            changed = copy_line(_offer(0, "updated", price="1.00")) + "\n"
            copy_text_upsert(conn, table_of(Offer), columns, changed, preserve=())
        with engine.connect() as conn:
            first = conn.execute(select(table_of(Offer)).where(Offer.position == 0)).one()
        assert (first.availability, first.price) == ("updated", Decimal("1.0000"))
    finally:
        engine.dispose()


def test_generic_helpers(database_url: str) -> None:
    engine = make_engine(database_url)
    ensure_schema(engine)
    table = table_of(Offer)
    rows = [
        {
            "product_urn": f"urn:p{i}",
            "position": 0,
            "price": Decimal("2.50"),
            "price_currency": "USD",
            "availability": None,
            "inventory_level": None,
            "price_valid_until": None,
            "price_specification": '{"price": 2.5}',  # JSON given as text
        }
        for i in range(1200)  # more than one SQLite batch
    ]
    try:
        with engine.begin() as conn:
            assert bulk_insert(conn, table, rows) == 1200
            assert existing_keys(conn, table, "product_urn", ["urn:p1", "urn:nope"]) == {"urn:p1"}
            bulk_upsert(conn, table, [{**rows[0], "price_currency": "EUR"}], preserve=())
            assert update_by_keys(conn, table, "product_urn", ["urn:p2", "urn:p3"],
                                  {"availability": "gone"}) == 2  # fmt: skip
            assert (
                delete_by_keys(conn, table, "product_urn", [f"urn:p{i}" for i in range(600)]) == 600
            )
        with engine.connect() as conn:
            remaining = conn.execute(select(table).order_by(table.c.product_urn)).all()
        assert len(remaining) == 600
        assert remaining[0].price_specification == {"price": 2.5}
    finally:
        engine.dispose()
