"""Tokenizer plugins: text -> list of token strings."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lexi_pipelines.classification.plugins.base import Param, PluginSpec, positive

# Letters, digits and underscore runs: on the 20 Newsgroups train split this beat
# ``\w\w+`` (sklearn's default) and a pattern keeping e-mail/abbreviation joiners, and it is
# the fastest of the three (see benchmarks/bench_classification.py's notes).
DEFAULT_PATTERN = r"\w+"


def _check_pattern(value: Any) -> str | None:
    try:
        re.compile(value)
    except re.error as exc:
        return f"not a valid regular expression: {exc}"
    return None


class UnicodeTokenizer:
    """Regex word tokens (Unicode-aware ``\\w``), lower-cased with ``str.lower``."""

    def __init__(
        self, pattern: str = DEFAULT_PATTERN, lowercase: bool = True, min_length: int = 1
    ) -> None:
        self.pattern = pattern
        self.lowercase = lowercase
        self.min_length = min_length
        self._regex = re.compile(pattern)

    def tokenize(self, text: str) -> list[str]:
        tokens = self._regex.findall(text.lower() if self.lowercase else text)
        if self.min_length > 1:
            return [t for t in tokens if len(t) >= self.min_length]
        return tokens

    def tokenize_many(self, texts: Sequence[str]) -> list[list[str]]:
        # Bound-method lookups hoisted: this loop is a third of the default pipeline's fit.
        findall = self._regex.findall
        if self.min_length > 1:
            return [self.tokenize(text) for text in texts]
        if self.lowercase:
            return [findall(text.lower()) for text in texts]
        return [findall(text) for text in texts]


class ICUTokenizer:
    """ICU word boundaries (dictionary-based for Thai, CJK...); keeps word/number segments."""

    # UBRK_WORD_NONE_LIMIT: segments with a rule status below it are spaces and punctuation.
    _WORD_STATUS = 100

    def __init__(self, locale: str = "en", lowercase: bool = True) -> None:
        self.locale = locale
        self.lowercase = lowercase
        self._breaker: Any = None

    def _iterator(self) -> Any:
        if self._breaker is None:
            import icu

            self._breaker = icu.BreakIterator.createWordInstance(icu.Locale(self.locale))
        return self._breaker

    def tokenize(self, text: str) -> list[str]:
        import icu

        breaker = self._iterator()
        # ICU offsets count UTF-16 units: slice the UnicodeString, not the Python str.
        ustr = icu.UnicodeString(text)
        breaker.setText(ustr)
        tokens: list[str] = []
        start = breaker.first()
        for end in breaker:
            if breaker.getRuleStatus() >= self._WORD_STATUS:
                token = str(ustr[start:end])
                tokens.append(token.lower() if self.lowercase else token)
            start = end
        return tokens

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_breaker": None}


class SpacyTokenizer:
    """spaCy's rule-based tokenizer (a blank pipeline unless ``model`` names a package)."""

    def __init__(self, lang: str = "en", model: str | None = None, lowercase: bool = True) -> None:
        self.lang = lang
        self.model = model
        self.lowercase = lowercase
        self._nlp: Any = None

    def _pipeline(self) -> Any:
        if self._nlp is None:
            import spacy

            self._nlp = spacy.load(self.model) if self.model else spacy.blank(self.lang)
        return self._nlp

    def tokenize(self, text: str) -> list[str]:
        doc = self._pipeline().make_doc(text)
        return [
            t.lower_ if self.lowercase else t.text for t in doc if not (t.is_space or t.is_punct)
        ]

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_nlp": None}


class SentencePieceTokenizer:
    """SentencePiece subwords: a given model file, or a unigram model trained on the fit texts."""

    def __init__(
        self, model_file: str | None = None, vocab_size: int = 8000, lowercase: bool = True
    ) -> None:
        self.model_file = model_file
        self.vocab_size = vocab_size
        self.lowercase = lowercase
        self._proto: bytes | None = Path(model_file).read_bytes() if model_file else None
        self._sp: Any = None

    def fit(self, texts: Sequence[str]) -> SentencePieceTokenizer:
        if self.model_file:
            return self
        import sentencepiece as spm

        lines = (
            line.lower() if self.lowercase else line
            for text in texts
            for line in text.splitlines()
            if line.strip()
        )
        buffer = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=lines,
            model_writer=buffer,
            vocab_size=self.vocab_size,
            model_type="unigram",
            hard_vocab_limit=False,  # small corpora: a smaller vocabulary, not an error
            minloglevel=2,
        )
        self._proto = buffer.getvalue()
        self._sp = None
        return self

    def _processor(self) -> Any:
        if self._sp is None:
            if self._proto is None:
                raise RuntimeError("sentencepiece tokenizer used before fit() and no model_file")
            import sentencepiece as spm

            self._sp = spm.SentencePieceProcessor(model_proto=self._proto)
        return self._sp

    def tokenize(self, text: str) -> list[str]:
        pieces = self._processor().encode(text.lower() if self.lowercase else text, out_type=str)
        return [str(p) for p in pieces]

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_sp": None}


class HuggingFaceTokenizer:
    """A ``tokenizers`` tokenizer.json (default: the bundled all-MiniLM-L6-v2 word pieces)."""

    def __init__(self, path: str | None = None) -> None:
        self.path = path
        self._json = self._resolve(path).read_text(encoding="utf-8")
        self._tokenizer: Any = None

    @staticmethod
    def _resolve(path: str | None) -> Path:
        if path is None:
            from lexi_pipelines.documents.tokenizer import default_model_path

            return default_model_path() / "tokenizer.json"
        resolved = Path(path).expanduser()
        return resolved / "tokenizer.json" if resolved.is_dir() else resolved

    def _loaded(self) -> Any:
        if self._tokenizer is None:
            from tokenizers import Tokenizer as HFTokenizer

            tokenizer = HFTokenizer.from_str(self._json)
            # The shipped 128-token truncation is for model inputs; features need every token.
            tokenizer.no_truncation()
            tokenizer.no_padding()
            self._tokenizer = tokenizer
        return self._tokenizer

    def tokenize(self, text: str) -> list[str]:
        return list(self._loaded().encode(text, add_special_tokens=False).tokens)

    def tokenize_many(self, texts: Sequence[str]) -> list[list[str]]:
        encodings = self._loaded().encode_batch(list(texts), add_special_tokens=False)
        return [list(e.tokens) for e in encodings]

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_tokenizer": None}


TOKENIZERS: tuple[PluginSpec, ...] = (
    PluginSpec(
        kind="tokenizer",
        name="unicode",
        description="Regex word tokens (Unicode \\w runs), lower-cased; no extra packages.",
        factory=UnicodeTokenizer,
        params=(
            Param(
                "pattern",
                str,
                DEFAULT_PATTERN,
                "regex whose matches are the tokens",
                check=_check_pattern,
            ),
            Param("lowercase", bool, True, "lower-case before matching"),
            Param("min_length", int, 1, "drop shorter tokens", check=positive),
        ),
    ),
    PluginSpec(
        kind="tokenizer",
        name="icu",
        description="ICU word-boundary analysis (PyICU); handles scripts without spaces.",
        factory=ICUTokenizer,
        params=(
            Param("locale", str, "en", "ICU locale for the break rules"),
            Param("lowercase", bool, True, "lower-case tokens"),
        ),
        requires=(("icu", "PyICU"),),
        extra="icu",
    ),
    PluginSpec(
        kind="tokenizer",
        name="spacy",
        description="spaCy rule-based tokenizer; punctuation and spaces dropped.",
        factory=SpacyTokenizer,
        params=(
            Param("lang", str, "en", "language of the blank pipeline"),
            Param("model", str, None, "installed spaCy package to load instead", nullable=True),
            Param("lowercase", bool, True, "lower-case tokens"),
        ),
        requires=(("spacy", "spacy"),),
        extra="spacy",
    ),
    PluginSpec(
        kind="tokenizer",
        name="sentencepiece",
        description="SentencePiece subwords; trains a unigram model on the training texts "
        "unless model_file is given.",
        factory=SentencePieceTokenizer,
        params=(
            Param("model_file", str, None, "a trained .model file", nullable=True),
            Param("vocab_size", int, 8000, "vocabulary size when training", check=positive),
            Param("lowercase", bool, True, "lower-case before encoding"),
        ),
        requires=(("sentencepiece", "sentencepiece"),),
        extra="sentencepiece",
    ),
    PluginSpec(
        kind="tokenizer",
        name="huggingface",
        description="A Hugging Face `tokenizers` tokenizer.json (default: bundled "
        "all-MiniLM-L6-v2 word pieces).",
        factory=HuggingFaceTokenizer,
        params=(Param("path", str, None, "tokenizer.json or a folder holding it", nullable=True),),
        requires=(("tokenizers", "tokenizers"),),
    ),
)
