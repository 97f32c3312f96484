"""Feature extractor plugins: token lists (or raw texts) -> a numeric matrix."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from itertools import repeat
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from lexi_pipelines.classification.plugins.base import (
    InputKind,
    Param,
    PluginSpec,
    fraction,
    positive,
)

if TYPE_CHECKING:  # scipy is imported on first use: the Dagster definitions load this module
    import scipy.sparse as sp


class TokenAnalyzer:
    """The tokens of a pre-tokenized document, plus n-grams when asked.

    A module-level class rather than a lambda so fitted extractors pickle.
    """

    def __init__(self, ngram_max: int = 1) -> None:
        self.ngram_max = ngram_max

    def __call__(self, tokens: list[str]) -> list[str]:
        if self.ngram_max == 1:
            return tokens
        grams = list(tokens)
        for n in range(2, self.ngram_max + 1):
            grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
        return grams


class TokenCounts:
    """Term counts over a vocabulary learned at fit (``min_df``/``max_df``/``max_features``).

    Written here rather than using CountVectorizer: counting each document with
    ``collections.Counter`` (C code) and looking up only its distinct terms is about twice as
    fast as CountVectorizer's per-token Python loop, which was a third of the default
    pipeline's fit time.
    """

    input: InputKind = "tokens"

    def __init__(
        self,
        min_df: int = 1,
        max_df: float = 1.0,
        max_features: int | None = None,
        ngram_max: int = 1,
        binary: bool = False,
    ) -> None:
        self.min_df = min_df
        self.max_df = max_df
        self.max_features = max_features
        self.analyzer = TokenAnalyzer(ngram_max)
        self.binary = binary
        self.vocabulary_: dict[str, int] = {}

    def _finish(self, data: Any, indices: Any, indptr: Any, width: int) -> sp.csr_matrix:
        import scipy.sparse as sp

        matrix = sp.csr_matrix(
            (
                np.asarray(data, dtype=np.float64),
                np.asarray(indices, dtype=np.int32),
                np.asarray(indptr, dtype=np.int64),
            ),
            shape=(len(indptr) - 1, width),
        )
        if self.binary:
            matrix.data[:] = 1.0
        matrix.sort_indices()
        return matrix

    def fit(self, docs: Sequence[Any]) -> TokenCounts:
        self.fit_transform(docs)
        return self

    def fit_transform(self, docs: Sequence[Any]) -> sp.csr_matrix:
        vocabulary: dict[str, int] = {}
        assign = vocabulary.setdefault
        lookup = vocabulary.__getitem__
        indices: list[int] = []
        data: list[int] = []
        indptr = [0]
        for doc in docs:
            counts = Counter(self.analyzer(doc))
            for term in counts:
                assign(term, len(vocabulary))
            indices.extend(map(lookup, counts))
            data.extend(counts.values())
            indptr.append(len(indices))
        matrix = self._finish(data, indices, indptr, len(vocabulary))
        keep = self._kept_columns(matrix)
        if keep is not None:
            matrix = matrix[:, keep]
            terms = list(vocabulary)
            vocabulary = {terms[j]: i for i, j in enumerate(keep.tolist())}
        if matrix.shape[1] == 0:
            raise ValueError("empty vocabulary: the documents have no tokens (after min/max_df)")
        # Columns follow first occurrence: deterministic for the same documents, and not
        # sorting 100k+ terms saves a tenth of the fit.
        self.vocabulary_ = vocabulary
        return matrix

    def _kept_columns(self, matrix: sp.csr_matrix) -> npt.NDArray[np.intp] | None:
        n_docs = matrix.shape[0]
        df = np.bincount(matrix.indices, minlength=matrix.shape[1])
        mask = (df >= self.min_df) & (df <= self.max_df * n_docs)
        if self.max_features is not None and mask.sum() > self.max_features:
            totals = np.asarray(matrix.sum(axis=0)).ravel()
            totals[~mask] = -1
            top = np.argsort(-totals, kind="stable")[: self.max_features]
            mask = np.zeros_like(mask)
            mask[top] = True
        return None if mask.all() else np.flatnonzero(mask)

    def transform(self, docs: Sequence[Any]) -> sp.csr_matrix:
        get = self.vocabulary_.get
        indices: list[int] = []
        data: list[int] = []
        indptr = [0]
        for doc in docs:
            counts = Counter(self.analyzer(doc))
            indices.extend(map(get, counts, repeat(-1, len(counts))))
            data.extend(counts.values())
            indptr.append(len(indices))
        cols = np.asarray(indices, dtype=np.int64)
        known = cols >= 0
        if not known.all():  # drop out-of-vocabulary terms, then recount each row's length
            rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))[known]
            new_indptr = np.concatenate(
                [[0], np.cumsum(np.bincount(rows, minlength=len(indptr) - 1))]
            )
            return self._finish(
                np.asarray(data)[known], cols[known], new_indptr, len(self.vocabulary_)
            )
        return self._finish(data, cols, indptr, len(self.vocabulary_))


class BagOfWords(TokenCounts):
    """Bag of words: token counts."""


class Tfidf:
    """TF-IDF of ``TokenCounts``; defaults chosen on the 20 Newsgroups train split."""

    input: InputKind = "tokens"

    def __init__(
        self,
        min_df: int = 1,
        max_df: float = 1.0,
        max_features: int | None = None,
        ngram_max: int = 1,
        sublinear_tf: bool = True,
        smooth_idf: bool = False,
        norm: str = "l2",
    ) -> None:
        from sklearn.feature_extraction.text import TfidfTransformer

        self.counts = TokenCounts(min_df, max_df, max_features, ngram_max)
        self.weights = TfidfTransformer(
            sublinear_tf=sublinear_tf,
            smooth_idf=smooth_idf,
            norm=None if norm == "none" else norm,
        )

    @property
    def vocabulary_(self) -> dict[str, int]:
        return self.counts.vocabulary_

    def fit(self, docs: Sequence[Any]) -> Tfidf:
        self.fit_transform(docs)
        return self

    def fit_transform(self, docs: Sequence[Any]) -> Any:
        return self.weights.fit_transform(self.counts.fit_transform(docs))

    def transform(self, docs: Sequence[Any]) -> Any:
        return self.weights.transform(self.counts.transform(docs))


class Hashing:
    """Feature hashing (no vocabulary to store), optionally tf-idf weighted."""

    input: InputKind = "tokens"

    def __init__(
        self,
        n_features: int = 2**18,
        ngram_max: int = 1,
        tfidf: bool = True,
        sublinear_tf: bool = True,
    ) -> None:
        from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer

        self.hasher = HashingVectorizer(
            analyzer=TokenAnalyzer(ngram_max),
            n_features=n_features,
            alternate_sign=False,
            norm=None if tfidf else "l2",
        )
        self.weights = TfidfTransformer(sublinear_tf=sublinear_tf) if tfidf else None

    def fit(self, docs: Sequence[Any]) -> Hashing:
        self.fit_transform(docs)
        return self

    def fit_transform(self, docs: Sequence[Any]) -> Any:
        counts = self.hasher.transform(docs)
        return self.weights.fit_transform(counts) if self.weights is not None else counts

    def transform(self, docs: Sequence[Any]) -> Any:
        counts = self.hasher.transform(docs)
        return self.weights.transform(counts) if self.weights is not None else counts


class SentenceEmbeddings:
    """Sentence-transformer embeddings of the raw texts (L2-normalized rows).

    The loaded model is not pickled: it is reloaded by name on first use after unpickling.
    """

    input: InputKind = "text"

    def __init__(
        self, model: str = "all-MiniLM-L6-v2", device: str = "auto", batch_size: int = 64
    ) -> None:
        self.model = model
        self.device = device
        self.batch_size = batch_size

    def _embedder(self) -> Any:
        from lexi_pipelines.vectors.embedding import TextEmbedder

        # TextEmbedder.load caches per process, so refits and predictions share one model.
        return TextEmbedder.load(self.model, device=self.device, batch_size=self.batch_size)

    def fit(self, docs: Sequence[Any]) -> SentenceEmbeddings:
        return self

    def fit_transform(self, docs: Sequence[Any]) -> npt.NDArray[np.float32]:
        return self.transform(docs)

    def transform(self, docs: Sequence[Any]) -> npt.NDArray[np.float32]:
        return self._embedder().encode([str(d) for d in docs])


def _vocab_params() -> tuple[Param, ...]:
    return (
        Param("min_df", int, 1, "drop terms in fewer documents", check=positive),
        Param(
            "max_df",
            float,
            1.0,
            "drop terms in more than this fraction of documents",
            check=fraction,
        ),
        Param(
            "max_features",
            int,
            None,
            "keep only the most frequent terms",
            nullable=True,
            check=positive,
        ),
        Param("ngram_max", int, 1, "also use token n-grams up to this length", check=positive),
    )


FEATURES: tuple[PluginSpec, ...] = (
    PluginSpec(
        kind="features",
        name="bow",
        description="Bag of words: token counts over a learned vocabulary.",
        factory=BagOfWords,
        params=(*_vocab_params(), Param("binary", bool, False, "presence instead of counts")),
    ),
    PluginSpec(
        kind="features",
        name="tfidf",
        description="TF-IDF over a learned vocabulary (sublinear tf, L2 rows by default).",
        factory=Tfidf,
        params=(
            *_vocab_params(),
            Param("sublinear_tf", bool, True, "1 + log(tf) instead of raw counts"),
            Param("smooth_idf", bool, False, "add one to document frequencies"),
            Param("norm", str, "l2", "row normalization", choices=("l2", "l1", "none")),
        ),
    ),
    PluginSpec(
        kind="features",
        name="hashing",
        description="Hashed token counts (fixed width, no vocabulary), tf-idf weighted.",
        factory=Hashing,
        params=(
            Param("n_features", int, 2**18, "number of hash buckets", check=positive),
            Param("ngram_max", int, 1, "also use token n-grams up to this length", check=positive),
            Param("tfidf", bool, True, "weight the counts by idf"),
            Param("sublinear_tf", bool, True, "1 + log(tf) when tfidf is on"),
        ),
    ),
    PluginSpec(
        kind="features",
        name="sbert",
        description="Sentence embeddings of the raw text (sentence-transformers; default "
        "the bundled all-MiniLM-L6-v2).",
        factory=SentenceEmbeddings,
        params=(
            Param("model", str, "all-MiniLM-L6-v2", "bundled model name or a local folder"),
            Param("device", str, "auto", "auto, cpu, cuda, cuda:N"),
            Param("batch_size", int, 64, "texts per forward pass", check=positive),
        ),
        requires=(("sentence_transformers", "sentence-transformers"), ("torch", "torch")),
        extra="embeddings",
        input="text",
    ),
)
