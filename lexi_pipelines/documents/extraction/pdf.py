"""PDF text with pypdf; a PDF whose pages carry no text layer needs OCR."""

from __future__ import annotations

import io
import logging

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError, PyPdfError

from lexi_pipelines.documents.errors import ExtractionError

# pypdf logs every recoverable oddity of real-world files; the outcome is what matters here.
logging.getLogger("pypdf").setLevel(logging.ERROR)


def pdf_pages(data: bytes) -> list[str]:
    """The text of each page; raises ``ExtractionError`` for unreadable or locked files."""
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            # Many PDFs are "encrypted" with an empty user password only to set permissions.
            try:
                unlocked = reader.decrypt("")
            except (DependencyError, NotImplementedError) as exc:
                raise ExtractionError(f"encrypted PDF: cannot decrypt ({exc})") from exc
            if not unlocked:
                raise ExtractionError("encrypted PDF: a password is required")
        return [page.extract_text() or "" for page in reader.pages]
    except ExtractionError:
        raise
    except FileNotDecryptedError as exc:
        raise ExtractionError("encrypted PDF: a password is required") from exc
    except (PdfReadError, PyPdfError) as exc:
        raise ExtractionError(f"corrupt PDF: {exc}") from exc
    except (
        ValueError,
        KeyError,
        TypeError,
        IndexError,
        AttributeError,
        RecursionError,
        NotImplementedError,  # a stream filter pypdf does not know (or a damaged filter name)
    ) as exc:
        # pypdf surfaces some malformed structures as plain Python errors.
        raise ExtractionError(f"corrupt PDF: {type(exc).__name__}: {exc}") from exc
