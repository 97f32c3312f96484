"""DOCX text with python-docx: paragraphs and tables in document order."""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterator

from docx import Document as open_docx
from docx.document import Document as DocxDocument
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table
from docx.text.paragraph import Paragraph
from lxml import etree

from lexi_pipelines.documents.errors import ExtractionError

# What a damaged file raises: the zip layer (a bad archive, a damaged deflate stream, an
# unsupported or encrypted member), a missing part, and XML that is not well-formed.
_CORRUPT = (
    PackageNotFoundError,
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,
    RuntimeError,
    KeyError,
    ValueError,
    etree.LxmlError,
)


def docx_text(data: bytes) -> str:
    try:
        document = open_docx(io.BytesIO(data))
    except _CORRUPT as exc:
        raise ExtractionError(f"corrupt DOCX: {str(exc) or type(exc).__name__}") from exc
    return "\n".join(_blocks(document))


def _blocks(document: DocxDocument) -> Iterator[str]:
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            yield block.text
        elif isinstance(block, Table):
            yield from _table_rows(block)
            yield ""


def _table_rows(table: Table) -> Iterator[str]:
    for row in table.rows:
        cells: list[str] = []
        previous: object = None
        for cell in row.cells:
            # A merged cell repeats along the row (one entry per grid column it spans); keep
            # one copy. Neighbouring cells that merely hold the same text are kept.
            if cell._tc is previous:
                continue
            previous = cell._tc
            cells.append(" ".join(p.text for p in cell.paragraphs).strip())
        yield "\t".join(cells)
