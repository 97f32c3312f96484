"""Settings of the documents domain and the embedding model's tokenizer for chunking."""

from pathlib import Path

import dagster as dg
from pydantic import Field, PrivateAttr

from lexi_pipelines.documents.chunking import Chunker
from lexi_pipelines.documents.projects import ProjectPaths, project_paths
from lexi_pipelines.documents.tokenizer import ModelTokenizer, load_model_tokenizer

DEFAULT_MAX_FILE_MB = 100.0
DEFAULT_OVERLAP_TOKENS = 32


class DocumentStorageResource(dg.ConfigurableResource):
    """Where project folders live and how their documents are extracted and chunked."""

    storage_path: str = Field(description="Root of the project folders (LEXI_STORAGE_PATH).")
    max_file_mb: float = Field(
        default=DEFAULT_MAX_FILE_MB, gt=0, description="Larger files are marked FAILED unread."
    )
    extraction_workers: int = Field(
        default=0, ge=0, description="Processes for extraction; 0 uses every core."
    )
    chunk_tokens: int = Field(
        default=0,
        ge=0,
        description="Word pieces per chunk; 0 fills the model window (less its special tokens).",
    )
    chunk_overlap_tokens: int = Field(default=DEFAULT_OVERLAP_TOKENS, ge=0)
    tokenizer_model_path: str = Field(
        default="",
        description="Folder with the embedding model's tokenizer.json; empty: the bundled "
        "all-MiniLM-L6-v2.",
    )
    max_failure_rate: float = Field(
        default=0.25,
        ge=0,
        le=1,
        description="The failure-rate check fails (and blocks chunking) above this share.",
    )
    progress_interval_s: float = Field(default=5.0, gt=0)

    _tokenizer: ModelTokenizer | None = PrivateAttr(default=None)

    @property
    def storage(self) -> Path:
        return Path(self.storage_path).expanduser().resolve()

    @property
    def max_bytes(self) -> int:
        return int(self.max_file_mb * 1_000_000)

    def paths(self, project: str) -> ProjectPaths:
        return project_paths(self.storage, project)

    def model_tokenizer(self) -> ModelTokenizer:
        # Loaded on first use in the run process, never at definitions load time.
        if self._tokenizer is None:
            self._tokenizer = load_model_tokenizer(self.tokenizer_model_path or None)
        return self._tokenizer

    def chunker(self) -> tuple[Chunker, str]:
        """The chunker and its key (tokenizer fingerprint plus parameters)."""
        model = self.model_tokenizer()
        window = model.content_tokens
        size = min(self.chunk_tokens or window, window)
        chunker = Chunker(model.tokenizer, size, min(self.chunk_overlap_tokens, size // 2))
        return chunker, chunker.key(model.fingerprint)
