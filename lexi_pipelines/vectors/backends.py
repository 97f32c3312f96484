"""Opening an index of the configured backend (pure: the resource and the CLI share it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lexi_pipelines.vectors.index import IndexSpec, VectorIndex

BACKENDS = ("lancedb", "pinecone")


@dataclass(frozen=True)
class BackendConfig:
    backend: str = "lancedb"
    # lancedb: where the tables live
    path: Path = Path(".lexi/vectors")
    # pinecone
    api_key: str | None = None
    control_host: str | None = None  # a stand-in or private endpoint; None: Pinecone's cloud
    cloud: str = "aws"
    region: str = "us-east-1"
    index_prefix: str = "lexi"

    def bm25_path(self, index: str, namespace: str) -> Path:
        """Corpus statistics of a hybrid namespace, kept beside the embedded tables."""
        return self.path / "bm25" / index / f"{namespace}.json"

    def validate(self) -> None:
        """Raise for a configuration no retry can fix (checked when a run starts)."""
        if self.backend not in BACKENDS:
            raise ValueError(f"unknown vector backend {self.backend!r}; choose one of {BACKENDS}")
        if self.backend == "pinecone" and not self.api_key:
            raise ValueError("the pinecone backend needs PINECONE_API_KEY")


def open_index(config: BackendConfig, spec: IndexSpec) -> VectorIndex:
    if config.backend == "lancedb":
        from lexi_pipelines.vectors.lance_index import LanceVectorIndex

        return LanceVectorIndex(config.path, spec)
    if config.backend == "pinecone":
        from lexi_pipelines.vectors.pinecone_index import PineconeVectorIndex

        if not config.api_key:
            raise ValueError("the pinecone backend needs PINECONE_API_KEY")
        return PineconeVectorIndex(
            api_key=config.api_key,
            spec=spec,
            index_name=f"{config.index_prefix}-{spec.name}",
            control_host=config.control_host,
            cloud=config.cloud,
            region=config.region,
        )
    raise ValueError(f"unknown vector backend {config.backend!r}; choose one of {BACKENDS}")
