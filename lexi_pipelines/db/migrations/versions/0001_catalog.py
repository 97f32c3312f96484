"""Catalog schema: organizations, brands, categories, product groups, products, offers.

Revision ID: 0001_catalog
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_catalog"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "categories",
        sa.Column("id", sa.String(length=1024), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("path", sa.String(length=2048), nullable=False),
        sa.Column("parent_id", sa.String(length=1024), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
    )
    op.create_index(op.f("ix_categories_parent_id"), "categories", ["parent_id"], unique=False)
    op.create_table(
        "feed_shards",
        sa.Column("ingestor", sa.String(length=128), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("organization_urn", sa.String(length=512), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("registry_hash", sa.String(length=64), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ingestor", "url", name=op.f("pk_feed_shards")),
    )
    op.create_table(
        "offers",
        sa.Column("product_urn", sa.String(length=512), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("price", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("price_currency", sa.String(length=8), nullable=True),
        sa.Column("availability", sa.String(length=256), nullable=True),
        sa.Column("inventory_level", sa.Integer(), nullable=True),
        sa.Column("price_valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("price_specification", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("product_urn", "position", name=op.f("pk_offers")),
    )
    op.create_table(
        "organizations",
        sa.Column("urn", sa.String(length=512), nullable=False),
        sa.Column("ingestor", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("logo", sa.String(length=2048), nullable=True),
        sa.Column("same_as", sa.JSON(), nullable=False),
        sa.Column("feed_url", sa.String(length=2048), nullable=True),
        sa.Column("seen_only_in_feed", sa.Boolean(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("urn", name=op.f("pk_organizations")),
    )
    op.create_index(op.f("ix_organizations_ingestor"), "organizations", ["ingestor"], unique=False)
    op.create_table(
        "product_groups",
        sa.Column("urn", sa.String(length=512), nullable=False),
        sa.Column("ingestor", sa.String(length=128), nullable=False),
        sa.Column("organization_urn", sa.String(length=512), nullable=False),
        sa.Column("brand_urn", sa.String(length=512), nullable=True),
        sa.Column("category_id", sa.String(length=1024), nullable=True),
        sa.Column("group_code", sa.String(length=512), nullable=True),
        sa.Column("name", sa.String(length=1024), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("varies_by", sa.JSON(), nullable=False),
        sa.Column("media", sa.JSON(), nullable=False),
        sa.Column("shard_url", sa.String(length=2048), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("urn", name=op.f("pk_product_groups")),
    )
    op.create_index(
        op.f("ix_product_groups_ingestor"), "product_groups", ["ingestor"], unique=False
    )
    op.create_table(
        "products",
        sa.Column("urn", sa.String(length=512), nullable=False),
        sa.Column("ingestor", sa.String(length=128), nullable=False),
        sa.Column("organization_urn", sa.String(length=512), nullable=False),
        sa.Column("brand_urn", sa.String(length=512), nullable=True),
        sa.Column("category_id", sa.String(length=1024), nullable=True),
        sa.Column("product_group_urn", sa.String(length=512), nullable=True),
        sa.Column("variant_of", sa.String(length=512), nullable=True),
        sa.Column("sku", sa.String(length=512), nullable=True),
        sa.Column("name", sa.String(length=1024), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("image", sa.String(length=2048), nullable=True),
        sa.Column("additional_properties", sa.JSON(), nullable=False),
        sa.Column("media", sa.JSON(), nullable=False),
        sa.Column("shard_url", sa.String(length=2048), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("urn", name=op.f("pk_products")),
    )
    op.create_index(op.f("ix_products_ingestor"), "products", ["ingestor"], unique=False)
    op.create_index(
        op.f("ix_products_product_group_urn"), "products", ["product_group_urn"], unique=False
    )
    op.create_index(op.f("ix_products_sku"), "products", ["sku"], unique=False)
    op.create_table(
        "brands",
        sa.Column("urn", sa.String(length=512), nullable=False),
        sa.Column("organization_urn", sa.String(length=512), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("name_key", sa.String(length=512), nullable=False),
        sa.Column("logo", sa.String(length=2048), nullable=True),
        sa.Column("seen_only_in_feed", sa.Boolean(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_urn"],
            ["organizations.urn"],
            name=op.f("fk_brands_organization_urn_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("urn", name=op.f("pk_brands")),
    )
    op.create_index(
        op.f("ix_brands_organization_urn"), "brands", ["organization_urn"], unique=False
    )
    op.create_index(
        "ix_brands_organization_urn_name_key",
        "brands",
        ["organization_urn", "name_key"],
        unique=False,
    )
    op.create_table(
        "organization_categories",
        sa.Column("organization_urn", sa.String(length=512), nullable=False),
        sa.Column("category_id", sa.String(length=1024), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["categories.id"],
            name=op.f("fk_organization_categories_category_id_categories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_urn"],
            ["organizations.urn"],
            name=op.f("fk_organization_categories_organization_urn_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "organization_urn", "category_id", name=op.f("pk_organization_categories")
        ),
    )
    op.create_index(
        op.f("ix_organization_categories_category_id"),
        "organization_categories",
        ["category_id"],
        unique=False,
    )


def downgrade() -> None:

    op.drop_index(
        op.f("ix_organization_categories_category_id"), table_name="organization_categories"
    )
    op.drop_table("organization_categories")
    op.drop_index("ix_brands_organization_urn_name_key", table_name="brands")
    op.drop_index(op.f("ix_brands_organization_urn"), table_name="brands")
    op.drop_table("brands")
    op.drop_index(op.f("ix_products_sku"), table_name="products")
    op.drop_index(op.f("ix_products_product_group_urn"), table_name="products")
    op.drop_index(op.f("ix_products_ingestor"), table_name="products")
    op.drop_table("products")
    op.drop_index(op.f("ix_product_groups_ingestor"), table_name="product_groups")
    op.drop_table("product_groups")
    op.drop_index(op.f("ix_organizations_ingestor"), table_name="organizations")
    op.drop_table("organizations")
    op.drop_table("offers")
    op.drop_table("feed_shards")
    op.drop_index(op.f("ix_categories_parent_id"), table_name="categories")
    op.drop_table("categories")
