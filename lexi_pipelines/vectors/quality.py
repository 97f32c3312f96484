"""Self-retrieval: each sampled item, embedded again, must come back as its own top-1."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from lexi_pipelines.vectors.embedding import TextEmbedder
from lexi_pipelines.vectors.index import VectorIndex
from lexi_pipelines.vectors.texts import IndexItem

# Two items with the same text (variants that differ only in metadata) tie; a tie is a hit.
_TIE = 1e-4


@dataclass
class SelfRetrieval:
    sampled: int = 0
    hits: int = 0
    misses: list[dict[str, object]] = field(default_factory=list)


def self_retrieval(
    index: VectorIndex,
    embedder: TextEmbedder,
    namespace: str,
    items: Sequence[IndexItem],
    sample_size: int,
) -> SelfRetrieval:
    outcome = SelfRetrieval()
    if not items:
        return outcome
    step = max(1, len(items) // sample_size)
    sample = list(items[::step])[:sample_size]  # spread over the sorted ids, deterministic
    vectors = embedder.encode([item.text for item in sample])
    outcome.sampled = len(sample)
    for item, vector in zip(sample, vectors, strict=True):
        matches = index.query(namespace, vector, top_k=5)
        self_score = next((m.score for m in matches if m.id == item.id), None)
        if matches and self_score is not None and self_score >= matches[0].score - _TIE:
            outcome.hits += 1
        else:
            outcome.misses.append(
                {"id": item.id, "top1": matches[0].id if matches else None, "self": self_score}
            )
    return outcome
