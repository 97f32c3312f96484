"""Vectorized value normalization and matching per comparison strategy.

Fuzzy similarity is normalized Levenshtein similarity, ``1 - distance / max(len_a, len_b)``
(two empty strings are identical), computed here with numpy for whole columns at once: for
each character of the left string, the DP row update ``cur[j] = min(t[j], cur[j-1] + 1)`` is a
running minimum, i.e. ``j + cummin(t - j)``, so no Python loop runs over rows or right-hand
characters. Only differing pairs are scored, each distinct pair once; they are sorted by length
and processed in chunks to keep padding small.

Preprocessing keeps to pandas' pyarrow-backed string kernels where they give Python's
results (see ``WHITESPACE``); what only Python can do (casefold outside ASCII, number parsing)
runs once per distinct value: extraction columns repeat a lot (vendors, currencies, terms).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pandas as pd

from lexi_pipelines.evaluation.config import FieldConfig

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

# Rows per DP chunk: small enough for the buffers to stay in cache.
_CHUNK = 1024
# Floats like 0.1 + 0.2 must still match 0.3 with tolerance 0.
_NUMERIC_EPS = 1e-9
# Python's ``\s`` on str, spelled out: pandas runs a pattern with ``\s`` through ``re`` row by
# row, a plain character class through pyarrow's kernels at C speed with the same result.
# (lexi_pipelines_tests/evaluation/test_matching.py checks this list against ``re``.)
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_NUMERIC_NOISE = f"[{WHITESPACE},$€£¥]"
# ``\s+`` -> " ", but matching only what changes (a lone space stays): most values have single
# spaces only, and pyarrow's cost is in the replacements.
_SPACE_RUN = f"[{WHITESPACE}]{{2,}}|[{WHITESPACE.replace(' ', '')}]"
# ISO 8601 calendar dates, extended or basic form, optionally with a time. pandas' "ISO8601"
# parser alone also reads "2024" and "2024-06" as dates and accepts "/" or "." separators.
_ISO_DATE = r"(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{8})(?:[T ].+)?"


def _map_distinct(values: pd.Series, fn: Callable[[str], str]) -> pd.Series:
    """``fn`` applied once per distinct non-null value, for Python-only text functions."""
    codes, uniques = pd.factorize(values)
    out = pd.array([fn(v) for v in uniques.tolist()], dtype="string").take(codes, allow_fill=True)
    return pd.Series(out, index=values.index)


def _casefold(text: pd.Series) -> pd.Series:
    # On ASCII text casefold() is lower(), which pyarrow does; the rest goes through Python.
    folded = text.str.lower()
    other = ~text.str.isascii().fillna(True).to_numpy(dtype=bool)
    if other.any():
        folded[other] = _map_distinct(text[other], str.casefold).array  # positional
    return folded


def preprocess(values: pd.Series, field: FieldConfig) -> pd.Series:
    """Apply the field's text preprocessing; nulls stay null."""
    out = values.astype("string")
    prep = field.preprocessing
    if prep.strip_whitespace:
        out = out.str.strip()  # pyarrow's trim and str.strip() agree on what is whitespace
    if prep.normalize_case:
        out = _casefold(out)
    if prep.normalize_format:
        if field.type == "numeric":
            out = out.str.replace(_NUMERIC_NOISE, "", regex=True)
        else:
            out = out.str.replace(_SPACE_RUN, " ", regex=True).str.strip()
    empty = (out == "").fillna(False)
    return out.mask(empty) if empty.any() else out


def to_numbers(values: pd.Series) -> pd.Series:
    """Text to float; unparseable values become NaN (the caller decides whether that is bad)."""
    codes, uniques = pd.factorize(values.astype("string").str.strip())
    parsed = pd.to_numeric(pd.Series(uniques, dtype="string"), errors="coerce")
    numbers = np.append(parsed.astype("float64").to_numpy(), np.nan)  # code -1 -> NaN
    return pd.Series(numbers[codes], index=values.index, dtype="float64")


def _to_datetime(text: pd.Series, date_format: str) -> pd.Series:
    # utc=True: one value such as "2024-06-15T00:00:00Z" among naive ones would otherwise make
    # pandas raise for the whole column; offsets are converted, naive values taken as UTC, and
    # everything comes back naive.
    parsed = pd.to_datetime(text, format=date_format, errors="coerce", utc=True, cache=False)
    return parsed.dt.tz_localize(None)


def _spread(parsed: pd.Series, codes: npt.NDArray[np.intp], index: pd.Index) -> pd.Series:
    """Per-distinct results back onto the rows (code -1, a null, becomes NaT)."""
    values = parsed.to_numpy()
    values = np.concatenate([values, np.array(["NaT"], dtype=values.dtype)])
    return pd.Series(values[codes], index=index)


def parse_dates(text: pd.Series, date_format: str) -> pd.Series:
    """Text in ``date_format`` to naive (UTC) timestamps, NaT where it does not parse."""
    codes, uniques = pd.factorize(text.astype("string"))
    return _spread(_to_datetime(pd.Series(uniques, dtype="string"), date_format), codes, text.index)


def to_dates(values: pd.Series, date_format: str | None) -> pd.Series:
    """Text to timestamps: the configured format first, ISO 8601 as the fallback.

    This is the "format normalization" of ``ExactDateTimeMatch``: ``31/01/2024`` and
    ``2024-01-31`` compare equal when the configured format is ``%d/%m/%Y``. Each distinct
    value is parsed once (dates repeat).
    """
    codes, uniques = pd.factorize(values.astype("string").str.strip())
    text = pd.Series(uniques, dtype="string")
    parsed = _to_datetime(text.where(text.str.fullmatch(_ISO_DATE).fillna(False)), "ISO8601")
    if date_format is not None:
        parsed = _to_datetime(text, date_format).fillna(parsed)
    return _spread(parsed, codes, values.index)


def levenshtein_similarity(left: pd.Series, right: pd.Series) -> FloatArray:
    """Normalized Levenshtein similarity per row (nulls count as empty strings)."""
    a = left.astype("string").fillna("").reset_index(drop=True)
    b = right.astype("string").fillna("").reset_index(drop=True)
    result = np.ones(len(a), dtype=np.float64)
    differ = (a != b).to_numpy(dtype=bool)
    if not differ.any():
        return result
    # Score each distinct (left, right) pair once.
    codes_a, uniq_a = pd.factorize(a[differ])
    codes_b, uniq_b = pd.factorize(b[differ])
    keys, inverse = np.unique(codes_a.astype(np.int64) * len(uniq_b) + codes_b, return_inverse=True)
    pairs_a = np.asarray(uniq_a, dtype=object)[keys // len(uniq_b)].tolist()
    pairs_b = np.asarray(uniq_b, dtype=object)[keys % len(uniq_b)].tolist()
    result[differ] = _similarities(pairs_a, pairs_b)[inverse.ravel()]
    return result


def _similarities(a: list[str], b: list[str]) -> FloatArray:
    la = np.fromiter(map(len, a), dtype=np.int64, count=len(a))
    lb = np.fromiter(map(len, b), dtype=np.int64, count=len(b))
    longest = np.maximum(la, lb)
    out = np.empty(len(a), dtype=np.float64)
    order = np.argsort(longest, kind="stable")
    for start in range(0, len(order), _CHUNK):
        idx = order[start : start + _CHUNK]
        dist = _levenshtein_chunk([a[i] for i in idx], [b[i] for i in idx], la[idx], lb[idx])
        out[idx] = 1.0 - dist / np.maximum(longest[idx], 1)
    return out


def _codes(strings: list[str], width: int) -> npt.NDArray[np.int32]:
    """Code points, one row per string, zero-padded to ``width``: numpy's fixed-width unicode
    is UTF-32, so this is one C-level conversion. The padding is never read (see below)."""
    width = max(width, 1)
    fixed = np.array(strings, dtype=f"<U{width}").reshape(len(strings))
    return fixed.view(np.int32).reshape(len(strings), width)


def _levenshtein_chunk(
    a: list[str], b: list[str], la: npt.NDArray[np.int64], lb: npt.NDArray[np.int64]
) -> FloatArray:
    # Cells past a row's own lengths hold junk but are never read: row r's distance is taken
    # at (la[r], lb[r]), which depends only on its real characters. int32 and reused buffers
    # keep a chunk in cache.
    rows = len(a)
    wa, wb = int(la.max(initial=0)), int(lb.max(initial=0))
    ca, cb = _codes(a, wa), _codes(b, wb)[:, :wb]
    j = np.arange(wb + 1, dtype=np.int32)
    prev = np.broadcast_to(j, (rows, wb + 1)).copy()
    cur, t = np.empty_like(prev), np.empty_like(prev)
    cost, deletion = np.empty((rows, wb), dtype=np.int32), np.empty((rows, wb), dtype=np.int32)
    # Strings of length 0 on the left: distance is the right length.
    dist = lb.astype(np.float64)
    ar = np.arange(rows)
    for i in range(1, wa + 1):
        np.not_equal(cb, ca[:, i - 1 : i], out=cost, casting="unsafe")
        np.add(prev[:, :-1], cost, out=t[:, 1:])
        np.add(prev[:, 1:], 1, out=deletion)
        np.minimum(t[:, 1:], deletion, out=t[:, 1:])
        t[:, 0] = i
        t -= j
        np.minimum.accumulate(t, axis=1, out=cur)
        cur += j
        done = la == i
        dist[done] = cur[ar[done], lb[done]]
        prev, cur = cur, prev
    return dist


def match_preprocessed(g: pd.Series, p: pd.Series, field: FieldConfig) -> BoolArray:
    """:func:`match` for values that already went through :func:`preprocess`."""
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


def match(golden: pd.Series, predicted: pd.Series, field: FieldConfig) -> BoolArray:
    """True where both values are present and equal under the field's strategy."""
    return match_preprocessed(preprocess(golden, field), preprocess(predicted, field), field)
