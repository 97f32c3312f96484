"""Project folders under the storage root and the rules for their names and paths.

Layout (LexiClass convention): ``{storage}/{project}/documents/`` holds the uploaded files,
``{storage}/{project}/text/{doc_id}.txt`` the extracted text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from lexi_pipelines.documents.errors import DocumentsInputError

# Partition keys, folder names and URL path segments: keep them to a portable subset.
_PROJECT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
DOCUMENTS_DIR = "documents"
TEXT_DIR = "text"


def validate_project_name(name: str) -> str:
    if not _PROJECT_NAME.fullmatch(name) or ".." in name:
        raise DocumentsInputError(
            f"invalid project name {name!r}: use 1-128 letters, digits, '_', '-' or '.', "
            "starting with a letter or digit",
            source=name,
            field="project",
        )
    return name


@dataclass(frozen=True)
class ProjectPaths:
    storage: Path
    project: str

    @property
    def root(self) -> Path:
        return self.storage / self.project

    @property
    def documents(self) -> Path:
        return self.root / DOCUMENTS_DIR

    @property
    def text(self) -> Path:
        return self.root / TEXT_DIR

    def text_file(self, doc_id: str) -> Path:
        return self.text / f"{doc_id}.txt"


def project_paths(storage: Path, project: str) -> ProjectPaths:
    return ProjectPaths(Path(storage), validate_project_name(project))


def discover_projects(storage: Path) -> list[str]:
    """Names of the folders under ``storage`` that hold a ``documents/`` folder."""
    if not storage.is_dir():
        return []
    return sorted(
        entry.name
        for entry in storage.iterdir()
        if _PROJECT_NAME.fullmatch(entry.name)
        and ".." not in entry.name
        and (entry / DOCUMENTS_DIR).is_dir()
    )
