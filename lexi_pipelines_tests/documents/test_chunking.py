"""Token-aware chunking with the embedding model's own tokenizer (all-MiniLM-L6-v2, offline)."""

from __future__ import annotations

import itertools
import json
import random
import shutil
import string
from pathlib import Path

import pytest

from lexi_pipelines.documents.chunking import Chunk, Chunker
from lexi_pipelines.documents.extraction import EXTRACTED, extract_file
from lexi_pipelines.documents.tokenizer import (
    ModelTokenizer,
    default_model_path,
    load_model_tokenizer,
)

LEGAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "legal"
PROSE = (
    "the court held that a party may not rely on an agreement which was entered into under "
    "duress and the plaintiff argued that section twelve of the statute applies to every "
    "contract signed after its enactment while the defendant maintained otherwise claiming "
    "jurisdiction lies elsewhere résumé naïve façade Straße 2012 U.S. 1,000 §"
)
WORDS = PROSE.split()


@pytest.fixture(scope="module")
def model() -> ModelTokenizer:
    return load_model_tokenizer()


def count(model: ModelTokenizer, text: str) -> int:
    return len(model.tokenizer.encode(text, add_special_tokens=False).ids)


def sentence(rng: random.Random, words: int) -> str:
    body = " ".join(rng.choice(WORDS) for _ in range(words))
    return body[0].upper() + body[1:] + rng.choice([".", ".", ".", "?", ";"])


def paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(sentence(rng, rng.randint(4, 22)) for _ in range(sentences))


def long_text(seed: int = 1, paragraphs: int = 40) -> str:
    rng = random.Random(seed)
    parts = []
    for _ in range(paragraphs):
        parts.append(paragraph(rng, rng.randint(1, 9)))
        if rng.random() < 0.2:  # a list: single line breaks
            parts[-1] += "\n" + "\n".join(f"{i}. {sentence(rng, 5)}" for i in range(1, 4))
    return "\n\n".join(parts)


def assert_valid_chunks(model: ModelTokenizer, chunker: Chunker, text: str) -> list[Chunk]:
    chunks = chunker.chunk(text)
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    for c in chunks:
        assert c.text == text[c.start : c.end]
        assert c.text and c.text == c.text.strip(), "chunks start and end at a token"
        assert c.token_count == count(model, c.text), f"inexact count for chunk {c.ordinal}"
        assert 0 < c.token_count <= chunker.max_tokens
    # No text is lost: every non-space character lies in some chunk.
    covered = [False] * len(text)
    for c in chunks:
        covered[c.start : c.end] = [True] * (c.end - c.start)
    lost = "".join(ch for ch, hit in zip(text, covered, strict=True) if not hit)
    assert lost.strip() == "", f"text outside every chunk: {lost.strip()[:80]!r}"
    for prev, nxt in itertools.pairwise(chunks):
        assert prev.start < nxt.start and prev.end < nxt.end
        # A word longer than the window is cut inside; overlap needs a word start to begin at.
        inside_word = text[prev.end - 1].isalnum() and text[prev.end : prev.end + 1].isalnum()
        several_words = len(prev.text.split()) > 1
        if chunker.overlap_tokens and several_words and not inside_word:
            assert nxt.start < prev.end, "consecutive chunks overlap"
            assert count(model, text[nxt.start : prev.end]) <= chunker.overlap_tokens
        elif not chunker.overlap_tokens:
            assert nxt.start >= prev.end
            assert text[prev.end : nxt.start].strip() == ""
    return chunks


# -- the tokenizer -------------------------------------------------------------------------------


def test_model_window(model: ModelTokenizer) -> None:
    assert model.max_seq_length == 256
    assert model.special_tokens == 2
    assert model.content_tokens == 254
    assert model.tokenizer.encode("hello", add_special_tokens=True).tokens == [
        "[CLS]",
        "hello",
        "[SEP]",
    ]


def test_tokenizer_neither_truncates_nor_pads(model: ModelTokenizer) -> None:
    rng = random.Random(3)
    text = " ".join(rng.choice(WORDS) for _ in range(1000))
    assert count(model, text) >= 1000  # every word is at least one piece
    assert count(model, text) > 128  # the tokenizer.json's own truncation is off
    assert count(model, "hello") == 1  # and so is its padding
    assert count(model, "") == 0


def test_fingerprint_is_stable(model: ModelTokenizer) -> None:
    assert len(model.fingerprint) == 16
    int(model.fingerprint, 16)
    assert load_model_tokenizer(default_model_path()).fingerprint == model.fingerprint


def test_model_folder_without_window_config_uses_fallback(tmp_path: Path) -> None:
    shutil.copy(default_model_path() / "tokenizer.json", tmp_path / "tokenizer.json")
    assert load_model_tokenizer(tmp_path).max_seq_length == 256
    (tmp_path / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 128}))
    loaded = load_model_tokenizer(str(tmp_path))
    assert loaded.max_seq_length == 128
    assert loaded.content_tokens == 126


def test_model_folder_without_tokenizer(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"tokenizer\.json"):
        load_model_tokenizer(tmp_path)


# -- chunk invariants ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("max_tokens", "overlap"), [(254, 0), (254, 32), (128, 0), (128, 64), (64, 16), (8, 0), (8, 4)]
)
def test_chunks_of_a_long_text_fit_and_counts_are_exact(
    model: ModelTokenizer, max_tokens: int, overlap: int
) -> None:
    text = long_text()
    assert count(model, text) > 10 * max_tokens
    chunks = assert_valid_chunks(model, Chunker(model.tokenizer, max_tokens, overlap), text)
    assert len(chunks) > 1
    if max_tokens >= 64:  # most chunks use most of the window
        sizes = sorted(c.token_count for c in chunks[:-1])
        assert sizes[len(sizes) // 2] >= max_tokens // 2


def test_chunks_of_the_legal_pdf(model: ModelTokenizer) -> None:
    pdf = LEGAL / "vector-pdf.pdf"
    if not pdf.is_file():
        pytest.skip(f"shared legal test file {pdf} is not present")
    outcome = extract_file(pdf, "application/pdf", max_bytes=100 << 20)
    assert outcome.status == EXTRACTED
    for overlap in (0, 32):
        chunker = Chunker(model.tokenizer, model.content_tokens, overlap)
        chunks = assert_valid_chunks(model, chunker, outcome.text)
        assert len(chunks) > 30
        assert max(c.token_count for c in chunks) <= 254


def test_overlap_is_roughly_the_requested_one(model: ModelTokenizer) -> None:
    text = long_text(seed=5)
    chunks = Chunker(model.tokenizer, 128, 32).chunk(text)
    overlaps = [
        count(model, text[nxt.start : prev.end]) for prev, nxt in itertools.pairwise(chunks)
    ]
    assert all(0 < n <= 32 for n in overlaps)
    # Starting at a sentence start may shorten an overlap, but not on average to nothing.
    assert sum(overlaps) / len(overlaps) >= 8


def test_no_overlap_when_overlap_is_zero(model: ModelTokenizer) -> None:
    text = long_text(seed=6)
    chunks = Chunker(model.tokenizer, 96, 0).chunk(text)
    assert sum(c.token_count for c in chunks) == count(model, text)
    for prev, nxt in itertools.pairwise(chunks):
        assert nxt.start >= prev.end


def test_chunks_end_at_paragraph_ends(model: ModelTokenizer) -> None:
    rng = random.Random(11)
    paragraphs: list[str] = []
    while len(paragraphs) < 30:
        candidate = paragraph(rng, rng.randint(2, 5))
        if 55 <= count(model, candidate) <= 63:  # about 60 tokens: two fit in 128
            paragraphs.append(candidate)
    text = "\n\n".join(paragraphs)
    chunks = assert_valid_chunks(model, Chunker(model.tokenizer, 128, 0), text)
    paragraph_ends = {text.index(p) + len(p) for p in paragraphs}
    assert all(c.end in paragraph_ends for c in chunks)
    paragraph_starts = {text.index(p) for p in paragraphs}
    assert all(c.start in paragraph_starts for c in chunks)
    assert len(chunks) <= 20  # mostly two paragraphs per chunk, not one


def test_chunks_end_at_sentence_ends_inside_long_paragraphs(model: ModelTokenizer) -> None:
    rng = random.Random(12)
    text = " ".join(sentence(rng, rng.randint(8, 15)) for _ in range(120))  # one paragraph
    chunks = assert_valid_chunks(model, Chunker(model.tokenizer, 100, 0), text)
    assert len(chunks) > 5
    assert all(c.text.endswith((".", "?", ";")) for c in chunks)


def test_single_giant_word_without_spaces(model: ModelTokenizer) -> None:
    # Longer than 100 characters the tokenizer calls the whole word one [UNK] piece.
    text = "a" * 5000
    chunks = assert_valid_chunks(model, Chunker(model.tokenizer, 16, 0), text)
    assert "".join(c.text for c in chunks) == text


@pytest.mark.parametrize(("max_tokens", "overlap"), [(8, 0), (8, 4), (16, 0), (16, 8), (32, 5)])
def test_words_longer_than_the_window_are_cut_inside(
    model: ModelTokenizer, max_tokens: int, overlap: int
) -> None:
    rng = random.Random(max_tokens * 100 + overlap)
    for _ in range(40):
        words = []
        for _ in range(rng.randint(1, 6)):
            if rng.random() < 0.5:  # a 60-100 letter "word" of many word pieces
                letters = rng.randint(60, 100)
                words.append("".join(rng.choice("qxzjkvwbfhpy") for _ in range(letters)))
            else:
                words.append(sentence(rng, rng.randint(2, 12)))
        text = rng.choice([" ", "", "\n\n"]).join(words)
        chunks = assert_valid_chunks(model, Chunker(model.tokenizer, max_tokens, overlap), text)
        assert chunks[0].start == len(text) - len(text.lstrip())
        assert chunks[-1].end == len(text.rstrip())


def test_giant_word_chunks_join_back_to_the_word(model: ModelTokenizer) -> None:
    word = "".join(random.Random(4).choice(string.ascii_lowercase) for _ in range(100))
    assert count(model, word) > 16
    chunks = assert_valid_chunks(model, Chunker(model.tokenizer, 16, 0), word)
    assert len(chunks) > 1
    assert "".join(c.text for c in chunks) == word


@pytest.mark.parametrize("text", ["", " ", "\n\n\t  \n"])
def test_empty_text_has_no_chunks(model: ModelTokenizer, text: str) -> None:
    assert Chunker(model.tokenizer, 64, 8).chunk(text) == []


def test_short_text_is_one_chunk(model: ModelTokenizer) -> None:
    text = "\n\n  The court held that the statute applies.  \n"
    chunks = Chunker(model.tokenizer, 64, 8).chunk(text)
    assert len(chunks) == 1
    (chunk,) = chunks
    assert chunk.text == text.strip()
    assert (chunk.start, chunk.end) == (4, 4 + len(text.strip()))
    assert chunk.ordinal == 0
    assert chunk.token_count == count(model, text.strip())


def test_text_of_exactly_max_tokens_is_one_chunk(model: ModelTokenizer) -> None:
    words = ["court"] * 64
    text = " ".join(words)
    assert count(model, text) == 64
    assert len(Chunker(model.tokenizer, 64, 0).chunk(text)) == 1
    assert len(Chunker(model.tokenizer, 63, 0).chunk(text)) == 2


def test_chunking_is_deterministic(model: ModelTokenizer) -> None:
    text = long_text(seed=9)
    first = Chunker(model.tokenizer, 128, 16).chunk(text)
    second = Chunker(model.tokenizer, 128, 16).chunk(text)
    assert first == second


def test_chunk_many_equals_chunk_per_text(model: ModelTokenizer) -> None:
    chunker = Chunker(model.tokenizer, 64, 8)
    texts = [long_text(seed=s, paragraphs=5) for s in range(6)] + ["", "Short one.", "b" * 300]
    assert chunker.chunk_many(texts) == [chunker.chunk(t) for t in texts]
    assert chunker.chunk_many([]) == []


# -- parameters and key --------------------------------------------------------------------------


def test_key_depends_on_parameters_and_tokenizer(model: ModelTokenizer) -> None:
    base = Chunker(model.tokenizer, 254, 32).key(model.fingerprint)
    assert len(base) == 16
    assert Chunker(model.tokenizer, 254, 32).key(model.fingerprint) == base
    others = {
        Chunker(model.tokenizer, 253, 32).key(model.fingerprint),
        Chunker(model.tokenizer, 254, 0).key(model.fingerprint),
        Chunker(model.tokenizer, 254, 31).key(model.fingerprint),
        Chunker(model.tokenizer, 254, 32).key("0" * 16),
    }
    assert base not in others
    assert len(others) == 4


@pytest.mark.parametrize(("max_tokens", "overlap"), [(7, 0), (0, 0), (-1, 0), (64, 33),
                                                      (64, -1), (8, 5)])  # fmt: skip
def test_invalid_parameters(model: ModelTokenizer, max_tokens: int, overlap: int) -> None:
    with pytest.raises(ValueError, match=r"max_tokens|overlap_tokens"):
        Chunker(model.tokenizer, max_tokens, overlap)


@pytest.mark.parametrize(("max_tokens", "overlap"), [(8, 0), (8, 4), (64, 32), (254, 127)])
def test_boundary_parameters_are_valid(
    model: ModelTokenizer, max_tokens: int, overlap: int
) -> None:
    chunker = Chunker(model.tokenizer, max_tokens, overlap)
    assert (chunker.max_tokens, chunker.overlap_tokens) == (max_tokens, overlap)
