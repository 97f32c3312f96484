"""Fixtures of the documents tests: a storage root with projects, resources, the legal files."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from lexi_pipelines.common.resources import DatabaseResource
from lexi_pipelines.documents.resources import DocumentStorageResource
from lexi_pipelines_tests.conftest import REPO_ROOT, SHARED_DATA

DEMO_DOCUMENTS = REPO_ROOT / "lexi_pipelines" / "demo_data" / "documents"
LEGAL = SHARED_DATA / "legal"


@pytest.fixture
def storage(tmp_path: Path) -> Path:
    """A storage root holding a copy of the demo project ``demo-legal``."""
    root = tmp_path / "storage"
    shutil.copytree(DEMO_DOCUMENTS, root)
    return root


@pytest.fixture
def legal_dir() -> Path:
    if not (LEGAL / "vector-pdf.pdf").is_file():
        pytest.skip(f"shared legal documents not found at {LEGAL}")
    return LEGAL


@pytest.fixture
def document_resources(database_url: str, storage: Path) -> dict[str, Any]:
    return {
        "database": DatabaseResource(url=database_url),
        "document_storage": DocumentStorageResource(
            storage_path=str(storage), progress_interval_s=0.5
        ),
    }
