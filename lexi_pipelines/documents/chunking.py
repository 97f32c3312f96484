"""Token-aware chunking: chunks fit the embedding model's window, cut at natural boundaries.

Each text is tokenized once with the model's tokenizer; candidate cut points (paragraph
breaks, line breaks, sentence ends, word starts) are mapped to token positions, and chunks are
packed greedily up to ``max_tokens``, each next chunk starting ``overlap_tokens`` back at a word
(preferably sentence) start. Counts are word pieces without the model's special tokens.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from tokenizers import Encoding, Tokenizer

_PARAGRAPH = re.compile(r"\n[ \t]*\n\s*")
_LINE = re.compile(r"\n\s*")
_SENTENCE = re.compile(r"(?<=[.!?;:])[\"'\u201d\u2019)\]]*\s+")

# Cut tiers, best first; a cut closer to the window's end wins within a tier, and a tier is
# only used when its cut keeps at least half a window in the chunk.
_TIERS = ("paragraph", "sentence", "line", "word")


@dataclass(frozen=True)
class Chunk:
    ordinal: int
    text: str
    start: int  # character offsets into the document text
    end: int
    token_count: int


class Chunker:
    def __init__(self, tokenizer: Tokenizer, max_tokens: int, overlap_tokens: int = 0):
        if max_tokens < 8:
            raise ValueError(f"max_tokens must be at least 8, not {max_tokens}")
        if not 0 <= overlap_tokens <= max_tokens // 2:
            raise ValueError(
                f"overlap_tokens must be between 0 and half of max_tokens ({max_tokens // 2}), "
                f"not {overlap_tokens}"
            )
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens
        self.overlap_tokens = overlap_tokens

    def key(self, tokenizer_fingerprint: str) -> str:
        """Identifies the chunking: a change of tokenizer or parameters re-chunks documents."""
        spec = f"v1:{tokenizer_fingerprint}:{self.max_tokens}:{self.overlap_tokens}"
        return hashlib.sha256(spec.encode()).hexdigest()[:16]

    def chunk(self, text: str) -> list[Chunk]:
        return self.chunk_many([text])[0]

    def chunk_many(self, texts: Sequence[str]) -> list[list[Chunk]]:
        # encode_batch tokenizes on all cores (the tokenizers library's own thread pool).
        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [self._pack(text, enc) for text, enc in zip(texts, encodings, strict=True)]

    def _pack(self, text: str, encoding: Encoding) -> list[Chunk]:
        offsets = encoding.offsets
        n = len(offsets)
        if n == 0:
            return []
        starts = [start for start, _end in offsets]
        word_ids = encoding.word_ids
        word_starts = [i for i in range(n) if i == 0 or word_ids[i] != word_ids[i - 1]]
        word_start_set = set(word_starts)
        tiers = {
            "paragraph": _token_positions(_PARAGRAPH, text, starts),
            "line": _token_positions(_LINE, text, starts),
            "sentence": _token_positions(_SENTENCE, text, starts),
            "word": word_starts,
        }
        sentence_starts = sorted(
            set(tiers["paragraph"]) | set(tiers["line"]) | set(tiers["sentence"])
        )
        chunks: list[Chunk] = []
        begin = end = 0
        while begin < n:
            limit = begin + self.max_tokens
            forced = False
            if limit >= n:
                end = n
            else:
                # Past the previous chunk's end, or this chunk would lie inside that one.
                end, forced = self._best_cut(tiers, begin, limit, after=max(begin, end))
            count = end - begin
            if forced or begin not in word_start_set:
                # Cut inside a word: the pieces of a partial word differ when tokenized alone.
                end, count = self._fit(text, offsets, begin, end)
            char_start, char_end = offsets[begin][0], offsets[end - 1][1]
            chunks.append(
                Chunk(len(chunks), text[char_start:char_end], char_start, char_end, count)
            )
            if end >= n:
                break
            begin = self._next_begin(begin, end, word_starts, sentence_starts)
        return chunks

    def _best_cut(
        self, tiers: dict[str, list[int]], begin: int, limit: int, after: int
    ) -> tuple[int, bool]:
        floor = begin + self.max_tokens // 2
        for tier in _TIERS:
            positions = tiers[tier]
            i = bisect.bisect_right(positions, limit) - 1
            if i >= 0 and positions[i] > after and (positions[i] > floor or tier == "word"):
                return positions[i], False
        return limit, True  # one "word" longer than the window: cut inside it

    def _next_begin(
        self, begin: int, end: int, word_starts: list[int], sentence_starts: list[int]
    ) -> int:
        if not self.overlap_tokens:
            return end
        # A chunk shorter than the overlap (cut early before a giant word) repeats from its
        # second word on.
        target = max(end - self.overlap_tokens, begin + 1)
        for positions in (sentence_starts, word_starts):
            i = bisect.bisect_left(positions, target)
            if i < len(positions) and begin < positions[i] < end:
                return positions[i]
        return end

    def _fit(
        self, text: str, offsets: list[tuple[int, int]], begin: int, end: int
    ) -> tuple[int, int]:
        """``(end, exact count)`` of a chunk cut inside a word, shrunk until it fits.

        Counts the chunk's text as the model will see it, alone; a word's tail tokenized on its
        own can take more pieces than it did inside the word.
        """
        while True:
            piece = text[offsets[begin][0] : offsets[end - 1][1]]
            count = len(self.tokenizer.encode(piece, add_special_tokens=False).ids)
            if count <= self.max_tokens or end - begin == 1:
                return end, count
            end = max(begin + 1, end - (count - self.max_tokens))


def _token_positions(pattern: re.Pattern[str], text: str, token_starts: list[int]) -> list[int]:
    """Indices of the first token at or after each match end (a cut before that token)."""
    positions: list[int] = []
    for match in pattern.finditer(text):
        i = bisect.bisect_left(token_starts, match.end())
        if i < len(token_starts) and (not positions or positions[-1] != i):
            positions.append(i)
    return positions
