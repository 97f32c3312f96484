"""Text cleaning shared by every format (LexIntel's rules)."""

from __future__ import annotations

import re

_LINE_BREAKS = re.compile(r"\r\n?|\f|\v|\u2028|\u2029")
# A line holding nothing but a page number: "12", "- 12 -", "Page 12", "Page 12 of 30", "12/30".
_PAGE_NUMBER_LINE = re.compile(
    r"^[ \t]*(?:(?:page|p\.)[ \t]*)?[-\u2013\u2014 ]*\d{1,5}[ \t]*"
    r"(?:(?:of|/)[ \t]*\d{1,5})?[ \t]*[-\u2013\u2014 ]*[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
_TRAILING_SPACE = re.compile(r"[ \t]+$", re.MULTILINE)
_MANY_NEWLINES = re.compile(r"\n{3,}")


def clean_text(text: str) -> str:
    """Remove NULs, normalize line breaks, drop page-number lines, collapse blank runs."""
    text = text.replace("\x00", "")
    text = _LINE_BREAKS.sub("\n", text)
    text = _PAGE_NUMBER_LINE.sub("", text)
    text = _TRAILING_SPACE.sub("", text)
    text = _MANY_NEWLINES.sub("\n\n", text)
    return text.strip("\n ")
