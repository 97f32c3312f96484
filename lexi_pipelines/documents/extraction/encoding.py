"""Decoding text files of unknown encoding."""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes

from lexi_pipelines.documents.errors import ExtractionError

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Punctuation that Western text has inside words: curly apostrophes, dashes, the Catalan
# middle dot and the soft hyphen.
_IN_WORD_PUNCTUATION = frozenset("\u2019\u2018\u2013\u2014\u00b7\u00ad")


def decode_text(data: bytes) -> tuple[str, str]:
    """``(text, encoding)``: BOM, strict UTF-8, Western cp1252, then charset detection."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace"), encoding
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # Detection guesses poorly on short texts ("résumé café" in latin-1 comes back as cp1006):
    # take cp1252 (a superset of latin-1's printable range) when the result reads as Western.
    try:
        western = data.decode("cp1252")
    except UnicodeDecodeError:
        western = None
    if western is not None and _reads_as_western(western):
        return western, "cp1252"
    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise ExtractionError("binary content: no text encoding fits the bytes")
    return str(best), best.encoding


def _reads_as_western(text: str) -> bool:
    """Whether cp1252-decoded ``text`` looks like a Western European language.

    Text of another single-byte code page read as cp1252 shows runs of accented letters
    (Cyrillic, Greek, Hebrew: "Ïðèâåò") or symbols inside words (Polish "Za¿ó³æ"); binary data
    shows control characters.
    """
    if any(ch < " " and ch not in "\t\n\r\f" for ch in text):
        return False
    words = [word for word in text.split() if not word.isascii()]
    odd = sum(1 for word in words if _odd_word(word))
    return odd * 10 <= len(words)  # tolerate a stray odd word in ten


def _odd_word(word: str) -> bool:
    run = 0
    for i, ch in enumerate(word):
        if ch.isascii():
            run = 0
        elif ch.isalpha():
            run += 1
            if run >= 3:
                return True
        else:
            run = 0
            inside = 0 < i < len(word) - 1 and word[i - 1].isalpha() and word[i + 1].isalpha()
            if inside and ch not in _IN_WORD_PUNCTUATION:
                return True
    return False
