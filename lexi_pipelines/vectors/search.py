"""Semantic (and hybrid) search over an index namespace, for people and programs."""

from __future__ import annotations

import os
from pathlib import Path

from lexi_pipelines.settings import LexiSettings
from lexi_pipelines.vectors.backends import BackendConfig, open_index
from lexi_pipelines.vectors.embedding import TextEmbedder
from lexi_pipelines.vectors.index import Filter, QueryMatch, VectorIndex
from lexi_pipelines.vectors.sparse import BM25Encoder, BM25Stats
from lexi_pipelines.vectors.texts import chunk_spec, product_spec


def search(
    index: VectorIndex,
    embedder: TextEmbedder,
    query: str,
    namespace: str,
    *,
    k: int = 10,
    hybrid: bool = False,
    alpha: float = 0.5,
    where: Filter | None = None,
    bm25_path: Path | None = None,
) -> list[QueryMatch]:
    """Top ``k`` matches; ``hybrid`` adds keyword relevance (sparse BM25 or full text)."""
    if not query.strip():
        raise ValueError("the query is empty")
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    vector = embedder.encode([query])[0]
    if not hybrid:
        return index.query(namespace, vector, top_k=k, where=where)
    if not index.spec.hybrid:
        raise ValueError(f"index {index.spec.name!r} has no keyword side for hybrid search")
    sparse = BM25Encoder(BM25Stats.load(bm25_path) if bm25_path else None).encode_query(query)
    return index.query(
        namespace, vector, top_k=k, where=where, text=query, sparse=sparse, alpha=alpha
    )


class EmptyNamespaceError(LookupError):
    """The namespace holds no vectors yet."""


def search_catalog_or_project(
    query: str,
    *,
    project: str | None = None,
    ingestor: str | None = None,
    k: int = 10,
    hybrid: bool = False,
    alpha: float = 0.5,
    where: Filter | None = None,
    settings: LexiSettings | None = None,
) -> list[QueryMatch]:
    """Search one ingestor's products or one project's chunks with the configured backend.

    The Python face of ``lexi search``: ``search_catalog_or_project("rain jacket",
    ingestor="acme-outdoor", hybrid=True)``.
    """
    if (project is None) == (ingestor is None):
        raise ValueError("give exactly one of project or ingestor")
    settings = settings or LexiSettings.from_env()
    embedder = TextEmbedder.load(settings.embedding_model, device=settings.embedding_device)
    spec = (product_spec if ingestor else chunk_spec)(embedder.dimension)
    namespace = ingestor or project or ""
    config = BackendConfig(
        backend=settings.vector_backend,
        path=settings.vector_path,
        api_key=os.environ.get("PINECONE_API_KEY"),
        control_host=os.environ.get("LEXI_PINECONE_HOST"),
    )
    index = open_index(config, spec)
    try:
        if not index.count(namespace):
            raise EmptyNamespaceError(
                f"{spec.name}/{namespace} holds no vectors (materialize it first)"
            )
        return search(
            index,
            embedder,
            query,
            namespace,
            k=k,
            hybrid=hybrid,
            alpha=alpha,
            where=where,
            bm25_path=config.bm25_path(spec.name, namespace),
        )
    finally:
        index.close()
