"""Pieces every domain shares: settings-backed resources."""
