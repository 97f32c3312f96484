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


# A DOCX is a zip archive that python-docx inflates whole, and whose XML lxml turns into a
# tree many times its size: a few hundred kilobytes crafted to inflate to gigabytes would take
# a worker's memory and minutes of CPU. Real documents stay far below both limits (word XML
# compresses about 5-20x; images not at all).
MAX_EXPANDED_BYTES = 256 * 1024 * 1024
MAX_EXPANSION_RATIO = 100
_RATIO_FLOOR_BYTES = 1024 * 1024  # small members may compress further; they cannot hurt


def _refuse_zip_bomb(data: bytes) -> None:
    """Check the sizes the archive declares; zipfile never inflates a member beyond them."""
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise ExtractionError(f"corrupt DOCX: {exc}") from exc
    total = 0
    for member in members:
        total += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > _RATIO_FLOOR_BYTES and ratio > MAX_EXPANSION_RATIO:
            raise ExtractionError(
                f"refused DOCX: {member.filename} expands {ratio:,.0f}x "
                f"({member.compress_size:,} to {member.file_size:,} bytes; a zip bomb?)"
            )
    if total > MAX_EXPANDED_BYTES:
        raise ExtractionError(
            f"refused DOCX: its parts expand to {total:,} bytes, above the limit of "
            f"{MAX_EXPANDED_BYTES:,}"
        )


def docx_text(data: bytes) -> str:
    _refuse_zip_bomb(data)
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
