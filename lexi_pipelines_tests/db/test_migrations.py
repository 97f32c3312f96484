"""Alembic migrations create exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from lexi_pipelines.db.engine import (
    current_revision,
    ensure_schema,
    head_revision,
    make_engine,
    upgrade_schema,
)
from lexi_pipelines.db.models import Base


def test_migrations_match_models(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade_schema(engine)
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
        assert set(inspect(engine).get_table_names()) >= {
            "organizations",
            "brands",
            "categories",
            "product_groups",
            "products",
            "offers",
            "feed_shards",
        }
    finally:
        engine.dispose()


def test_schema_is_applied_on_first_use_and_downgrades(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        ensure_schema(engine)
        assert current_revision(engine) == head_revision()
        upgrade_schema(engine, "head")  # idempotent
        from alembic import command

        from lexi_pipelines.db.engine import alembic_config

        config = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "base")
        assert "products" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
