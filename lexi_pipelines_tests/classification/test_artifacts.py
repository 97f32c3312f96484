"""Versioned model artifacts: atomic writes, manifests, checksums before unpickling."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from lexi_pipelines.classification.artifacts import MANIFEST_FILE, MODEL_FILE, ModelStore
from lexi_pipelines.classification.errors import ArtifactIntegrityError


def test_save_and_load_round_trip_with_manifest(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    saved = store.save("proj", "topic", 1, {"weights": [1, 2, 3]}, {"classes": ["a", "b"]})
    assert saved.path == tmp_path / "proj" / "models" / "topic" / "v1"
    model, manifest = store.load("proj", "topic", 1)
    assert model == {"weights": [1, 2, 3]}
    assert manifest["classes"] == ["a", "b"] and manifest["version"] == 1
    assert set(manifest["artifacts"]) == {MODEL_FILE}
    assert "scikit-learn" in manifest["libraries"] and "python" in manifest["libraries"]
    store.save("proj", "topic", 2, {"weights": [4]}, {})
    assert store.versions("proj", "topic") == [1, 2]
    with pytest.raises(FileExistsError):
        store.save("proj", "topic", 2, {}, {})


def test_a_crash_before_the_rename_leaves_the_previous_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ModelStore(tmp_path)
    store.save("proj", "topic", 1, "first", {})

    def crash(*_args: Any) -> None:
        raise OSError("killed between write and rename")

    monkeypatch.setattr(os, "rename", crash)
    with pytest.raises(OSError, match="killed"):
        store.save("proj", "topic", 2, "second", {})
    monkeypatch.undo()
    assert store.versions("proj", "topic") == [1]
    assert store.load("proj", "topic", 1)[0] == "first"
    assert not list((tmp_path / "proj" / "models" / "topic").glob(".v*"))


def test_leftover_staging_folder_is_invisible_and_cleaned(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    store.save("proj", "topic", 1, "first", {})
    stale = tmp_path / "proj" / "models" / "topic" / ".v2.deadbeef.tmp"
    stale.mkdir()
    (stale / MODEL_FILE).write_bytes(b"half")
    assert store.versions("proj", "topic") == [1]
    assert store.clean_staging("proj", "topic") == 1 and not stale.exists()


def test_checksum_mismatch_refuses_to_unpickle(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    saved = store.save("proj", "topic", 1, "model", {})
    (saved.path / MODEL_FILE).write_bytes(b"not the pickle that was saved")
    with pytest.raises(ArtifactIntegrityError, match="does not match the manifest"):
        store.load("proj", "topic", 1)
    manifest = json.loads((saved.path / MANIFEST_FILE).read_text())
    manifest["artifacts"] = {}
    (saved.path / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(ArtifactIntegrityError, match="no checksum"):
        store.load("proj", "topic", 1)
