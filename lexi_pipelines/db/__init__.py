"""Metadata database: typed SQLAlchemy models, engine factory and Alembic migrations."""
