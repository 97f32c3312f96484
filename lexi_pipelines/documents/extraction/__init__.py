"""Text extraction per media type, returning an outcome instead of raising for bad files."""

from __future__ import annotations

import codecs
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from lexi_pipelines.documents.errors import ExtractionError
from lexi_pipelines.documents.extraction.cleaning import clean_text
from lexi_pipelines.documents.extraction.encoding import decode_text

EXTRACTED = "EXTRACTED"
NEEDS_OCR = "NEEDS_OCR"
FAILED = "FAILED"

_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


@dataclass(frozen=True)
class ExtractionOutcome:
    status: str
    text: str = ""
    page_count: int | None = None
    error: str | None = None

    @property
    def text_sha256(self) -> str | None:
        return hashlib.sha256(self.text.encode()).hexdigest() if self.status == EXTRACTED else None


def extract_bytes(data: bytes, media_type: str) -> ExtractionOutcome:
    """Extract and clean the text of one file's bytes; failures become FAILED outcomes."""
    if not data:
        return ExtractionOutcome(FAILED, error="empty file")
    try:
        if media_type == "application/pdf":
            from lexi_pipelines.documents.extraction.pdf import pdf_pages

            pages = pdf_pages(data)
            text = clean_text("\n\n".join(pages))
            if not text.strip():
                # Pages but no text layer: a scan. OCR is a later stage, not a failure.
                return ExtractionOutcome(NEEDS_OCR, page_count=len(pages))
            return ExtractionOutcome(EXTRACTED, text, page_count=len(pages))
        if media_type.endswith("wordprocessingml.document"):
            from lexi_pipelines.documents.extraction.docx import docx_text

            return _text_outcome(docx_text(data))
        if media_type == "text/html":
            from lexi_pipelines.documents.extraction.html import html_to_text

            return _text_outcome(html_to_text(_decode_html(data)))
        text, _encoding = decode_text(data)
        return _text_outcome(text)
    except ExtractionError as exc:
        return ExtractionOutcome(FAILED, error=str(exc))


def _text_outcome(raw: str) -> ExtractionOutcome:
    text = clean_text(raw)
    if not text:
        return ExtractionOutcome(FAILED, error="no text: the file holds only whitespace or markup")
    return ExtractionOutcome(EXTRACTED, text)


def _decode_html(data: bytes) -> str:
    # As browsers do: a byte order mark wins over a <meta> declaration, and a page that
    # declares UTF-16 (or -32) in ASCII-readable bytes is not in it (read it as UTF-8).
    declared = None if data.startswith(_BOMS) else _META_CHARSET.search(data[:4096])
    if declared:
        encoding = declared.group(1).decode("ascii")
        if encoding.lower().replace("-", "").replace("_", "").startswith(("utf16", "utf32")):
            encoding = "utf-8"
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            pass  # a wrong declaration is common; detect instead
    return decode_text(data)[0]


def extract_file(path: Path, media_type: str, max_bytes: int) -> ExtractionOutcome:
    """Read and extract one file, refusing files above ``max_bytes`` before reading them."""
    try:
        size = os.path.getsize(path)
        if size > max_bytes:
            return ExtractionOutcome(
                FAILED,
                error=f"file too large: {size:,} bytes is above the limit of {max_bytes:,} "
                f"bytes ({max_bytes / 1e6:g} MB)",
            )
        data = path.read_bytes()
    except FileNotFoundError:
        return ExtractionOutcome(FAILED, error="file vanished before it could be read")
    except OSError as exc:
        return ExtractionOutcome(FAILED, error=f"cannot read file: {exc.strerror or exc}")
    return extract_bytes(data, media_type)
