"""PDF text extraction with page numbers (pypdf); pages that look tabular are read in layout mode so that each
table row becomes one line with its headers (``ragtune.documents.tables``)."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

from ragtune.documents.loaders.base import Loader, LoadError, loaders
from ragtune.documents.models import Page
from ragtune.documents.tables import Word, page_tables, value_lines

_WORD = re.compile(r"\S+")
MIN_VALUE_LINES = 8
"""A page whose plain text has this many lines holding only a number is read for tables (pypdf's plain text puts
each amount of a table on a line of its own)."""


@loaders.register("pdf")
class PdfLoader(Loader):
    suffixes = (".pdf",)
    paged = True

    def load(self, path: Path, data: bytes) -> list[Page]:
        from pypdf import PdfReader
        from pypdf.errors import DependencyError, PyPdfError

        logging.getLogger("pypdf").setLevel(logging.ERROR)
        if not data.lstrip()[:5] == b"%PDF-":
            raise LoadError("not a PDF (no %PDF- header)")
        try:
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted and not reader.decrypt(""):  # permissions only: the empty user password opens it
                raise LoadError("encrypted PDF: needs a password")
            pages = [Page(i + 1, self.page_text(page)) for i, page in enumerate(reader.pages)]
        except LoadError:
            raise
        except DependencyError as e:
            raise LoadError(f"encrypted PDF: {e}") from None
        except (PyPdfError, ValueError, KeyError, TypeError, OSError) as e:
            raise LoadError(f"corrupt PDF: {e}") from None
        if not any(p.text.strip() for p in pages):
            raise LoadError("PDF has no extractable text (scanned? OCR it first)")
        return pages

    def page_text(self, page) -> str:
        """The page's plain text, or, when it looks tabular, its layout-mode lines with tables as row lines."""
        text = page.extract_text() or ""
        if not self.tables or value_lines(text) < MIN_VALUE_LINES:
            return text
        layout = page.extract_text(extraction_mode="layout", layout_mode_space_vertically=False)
        lines = [[Word(m.group(), m.start(), m.end()) for m in _WORD.finditer(line)] for line in layout.splitlines()]
        return "\n".join(page_tables([ws for ws in lines if ws], gap=2)).strip()

    def title(self, path: Path, pages: list[Page]) -> str:
        return path.stem
