"""Lexi Pipelines: one Dagster code location for catalog and document intelligence."""
