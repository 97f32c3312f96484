"""Catalog domain: brand registries and sharded product feeds (replaces discovery-node)."""
