"""Fixtures of the vectors tests: the real model (loaded once) and an embedded index."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lexi_pipelines.vectors.embedding import TextEmbedder
from lexi_pipelines.vectors.resources import Embedder, VectorIndexResource


@pytest.fixture(scope="session")
def text_embedder() -> TextEmbedder:
    return TextEmbedder.load(device="cpu")


@pytest.fixture
def vector_resources(tmp_path: Path, text_embedder: TextEmbedder) -> dict[str, Any]:
    return {
        "embedder": Embedder(device="cpu"),
        "vector_index": VectorIndexResource(path=str(tmp_path / "vectors")),
    }
