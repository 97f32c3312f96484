"""Versioned model artifacts on disk: ``{storage}/{project}/models/{field}/v{version}/``.

A version folder holds the pickled fitted pipeline and ``manifest.json`` (plugins and
parameters, library versions, training-data hash, classes, metrics, sha256 of each artifact).
It is written under a temporary name and renamed into place, so a crash never leaves half a
model where a loader would find it; loading checks every checksum before unpickling.
"""

from __future__ import annotations

import json
import os
import pickle
import platform
import re
import shutil
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from lexi_pipelines.classification.errors import ArtifactIntegrityError

# A module-level name: the fault tests patch ``artifacts._sha256`` to pause inside a save.
from lexi_pipelines.common.files import file_sha256 as _sha256

MODEL_FILE = "model.pkl"
MANIFEST_FILE = "manifest.json"
_VERSION_DIR = re.compile(r"^v(\d+)$")
_LIBRARIES = ("scikit-learn", "numpy", "scipy", "torch", "sentence-transformers", "tokenizers")


@dataclass(frozen=True)
class SavedModel:
    version: int
    path: Path
    manifest: dict[str, Any]


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            continue
    return versions


def artifact_problems(folder: Path, artifacts: Mapping[str, str]) -> Iterator[str]:
    """One message per artifact (name -> sha256 from a manifest) that is missing or differs."""
    for name, expected in sorted(artifacts.items()):
        path = folder / name
        if not path.is_file():
            yield f"{path}: listed in the manifest but missing"
            continue
        actual = _sha256(path)
        if actual != expected:
            yield f"{path}: sha256 {actual[:16]}… does not match the manifest's {expected[:16]}…"


class ModelStore:
    def __init__(self, storage: Path):
        self.storage = Path(storage)

    def field_dir(self, project: str, field: str) -> Path:
        return self.storage / project / "models" / field

    def versions(self, project: str, field: str) -> list[int]:
        """Complete versions on disk (a folder with its manifest), ascending."""
        folder = self.field_dir(project, field)
        if not folder.is_dir():
            return []
        found = []
        for entry in folder.iterdir():
            match = _VERSION_DIR.fullmatch(entry.name)
            if match and (entry / MANIFEST_FILE).is_file():
                found.append(int(match.group(1)))
        return sorted(found)

    def save(
        self, project: str, field: str, version: int, model: Any, manifest: dict[str, Any]
    ) -> SavedModel:
        folder = self.field_dir(project, field)
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / f"v{version}"
        if final.exists():
            raise FileExistsError(f"{final} already exists: model versions are never rewritten")
        staging = folder / f".v{version}.{uuid.uuid4().hex[:12]}.tmp"
        staging.mkdir()
        try:
            with open(staging / MODEL_FILE, "wb") as handle:
                pickle.dump(model, handle, protocol=pickle.HIGHEST_PROTOCOL)
                handle.flush()
                os.fsync(handle.fileno())
            full = {
                **manifest,
                "project": project,
                "field": field,
                "version": version,
                "created_at": datetime.now(UTC).isoformat(),
                "libraries": library_versions(),
                "artifacts": {MODEL_FILE: _sha256(staging / MODEL_FILE)},
            }
            (staging / MANIFEST_FILE).write_text(json.dumps(full, indent=2, sort_keys=True))
            os.rename(staging, final)  # atomic on one file system; refuses an existing folder
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return SavedModel(version, final, full)

    def manifest(self, project: str, field: str, version: int) -> dict[str, Any]:
        path = self.field_dir(project, field) / f"v{version}" / MANIFEST_FILE
        manifest: dict[str, Any] = json.loads(path.read_text())
        return manifest

    def load(self, project: str, field: str, version: int) -> tuple[Any, dict[str, Any]]:
        """The unpickled model and its manifest, after every checksum matched."""
        folder = self.field_dir(project, field) / f"v{version}"
        manifest = self.manifest(project, field, version)
        for problem in artifact_problems(folder, manifest.get("artifacts", {})):
            raise ArtifactIntegrityError(f"{problem}; refusing to unpickle it")
        if MODEL_FILE not in manifest.get("artifacts", {}):
            raise ArtifactIntegrityError(f"{folder / MANIFEST_FILE}: no checksum for {MODEL_FILE}")
        with open(folder / MODEL_FILE, "rb") as handle:
            return pickle.load(handle), manifest

    def clean_staging(self, project: str, field: str) -> int:
        """Remove folders a crashed save left behind."""
        folder = self.field_dir(project, field)
        removed = 0
        for entry in folder.glob(".v*.tmp") if folder.is_dir() else []:
            shutil.rmtree(entry, ignore_errors=True)
            removed += 1
        return removed
