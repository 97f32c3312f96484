"""Vectorized value normalization and matching per comparison strategy.

Fuzzy similarity is normalized Levenshtein similarity, ``1 - distance / max(len_a, len_b)``
(two empty strings are identical), computed here with numpy for whole columns at once: for
each character of the left string, the DP row update ``cur[j] = min(t[j], cur[j-1] + 1)`` is a
running minimum, i.e. ``j + cummin(t - j)``, so no Python loop runs over rows or right-hand
characters. Rows are sorted by length and processed in chunks to keep padding small.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from lexi_pipelines.evaluation.config import FieldConfig

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

_CHUNK = 4096
# Floats like 0.1 + 0.2 must still match 0.3 with tolerance 0.
_NUMERIC_EPS = 1e-9


def preprocess(values: pd.Series, field: FieldConfig) -> pd.Series:
    """Apply the field's text preprocessing; nulls stay null."""
    out = values.astype("string")
    prep = field.preprocessing
    if prep.strip_whitespace:
        out = out.str.strip()
    if prep.normalize_case:
        out = out.str.casefold()
    if prep.normalize_format:
        if field.type == "numeric":
            out = out.str.replace(r"[\s,$€£¥]", "", regex=True)
        else:
            out = out.str.replace(r"\s+", " ", regex=True).str.strip()
    return out.mask(out == "")


def to_numbers(values: pd.Series) -> pd.Series:
    """Text to float; unparseable values become NaN (the caller decides whether that is bad)."""
    return pd.to_numeric(values.astype("string").str.strip(), errors="coerce").astype("float64")


def to_dates(values: pd.Series, date_format: str | None) -> pd.Series:
    """Text to timestamps: the configured format first, ISO 8601 as the fallback.

    This is the "format normalization" of ``ExactDateTimeMatch``: ``31/01/2024`` and
    ``2024-01-31`` compare equal when the configured format is ``%d/%m/%Y``.
    """
    text = values.astype("string").str.strip()
    iso = pd.to_datetime(text, format="ISO8601", errors="coerce")
    if date_format is None:
        return iso
    parsed = pd.to_datetime(text, format=date_format, errors="coerce")
    return parsed.fillna(iso)


def levenshtein_similarity(left: pd.Series, right: pd.Series) -> FloatArray:
    """Normalized Levenshtein similarity per row (nulls count as empty strings)."""
    a = left.astype("string").fillna("").tolist()
    b = right.astype("string").fillna("").tolist()
    n = len(a)
    result = np.ones(n, dtype=np.float64)
    la = np.fromiter((len(s) for s in a), dtype=np.int64, count=n)
    lb = np.fromiter((len(s) for s in b), dtype=np.int64, count=n)
    todo = np.flatnonzero(np.fromiter((x != y for x, y in zip(a, b, strict=True)), bool, n))
    todo = todo[np.argsort(np.maximum(la[todo], lb[todo]), kind="stable")]
    for start in range(0, len(todo), _CHUNK):
        idx = todo[start : start + _CHUNK]
        dist = _levenshtein_chunk([a[i] for i in idx], [b[i] for i in idx], la[idx], lb[idx])
        result[idx] = 1.0 - dist / np.maximum(np.maximum(la[idx], lb[idx]), 1)
    return result


def _codes(strings: list[str], width: int) -> npt.NDArray[np.int64]:
    out = np.full((len(strings), max(width, 1)), -1, dtype=np.int64)
    for r, s in enumerate(strings):
        if s:
            out[r, : len(s)] = np.frombuffer(s.encode("utf-32-le"), dtype=np.uint32)
    return out


def _levenshtein_chunk(
    a: list[str], b: list[str], la: npt.NDArray[np.int64], lb: npt.NDArray[np.int64]
) -> FloatArray:
    rows = len(a)
    wa, wb = int(la.max(initial=0)), int(lb.max(initial=0))
    ca, cb = _codes(a, wa), _codes(b, wb)[:, :wb]
    j = np.arange(wb + 1, dtype=np.int64)
    prev = np.broadcast_to(j, (rows, wb + 1)).copy()
    # Strings of length 0 on the left: distance is the right length.
    dist = lb.astype(np.float64)
    ar = np.arange(rows)
    for i in range(1, wa + 1):
        cost = (ca[:, i - 1 : i] != cb).astype(np.int64)
        t = np.empty_like(prev)
        t[:, 0] = i
        t[:, 1:] = np.minimum(prev[:, 1:] + 1, prev[:, :-1] + cost)
        cur = np.minimum.accumulate(t - j, axis=1) + j
        done = la == i
        dist[done] = cur[ar[done], lb[done]]
        prev = cur
    return dist


def match(golden: pd.Series, predicted: pd.Series, field: FieldConfig) -> BoolArray:
    """True where both values are present and equal under the field's strategy."""
    g = preprocess(golden, field)
    p = preprocess(predicted, field)
    present = (g.notna() & p.notna()).to_numpy(dtype=bool)
    strategy = field.strategy
    if strategy == "ExactStringMatch":
        equal = (g == p).fillna(False).to_numpy(dtype=bool)
    elif strategy == "FuzzyStringMatch":
        equal = levenshtein_similarity(g, p) >= field.threshold
    elif strategy == "NumericMatch":
        diff = np.abs(to_numbers(g).to_numpy() - to_numbers(p).to_numpy())
        with np.errstate(invalid="ignore"):
            equal = np.nan_to_num(diff, nan=np.inf) <= field.tolerance + _NUMERIC_EPS
    else:  # ExactDateTimeMatch
        fmt = field.validation_rules.date_format
        gd, pdt = to_dates(g, fmt), to_dates(p, fmt)
        equal = ((gd == pdt) & gd.notna() & pdt.notna()).to_numpy(dtype=bool)
    return present & equal
