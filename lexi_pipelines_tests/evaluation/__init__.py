"""Tests of the pure evaluation core."""
