"""PDF text extraction with page numbers (pypdf)."""

from __future__ import annotations

import io
import logging
from pathlib import Path

from ragtune.documents.loaders.base import Loader, LoadError, loaders
from ragtune.documents.models import Page


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
            pages = [Page(i + 1, page.extract_text() or "") for i, page in enumerate(reader.pages)]
        except LoadError:
            raise
        except DependencyError as e:
            raise LoadError(f"encrypted PDF: {e}") from None
        except (PyPdfError, ValueError, KeyError, TypeError, OSError) as e:
            raise LoadError(f"corrupt PDF: {e}") from None
        if not any(p.text.strip() for p in pages):
            raise LoadError("PDF has no extractable text (scanned? OCR it first)")
        return pages

    def title(self, path: Path, pages: list[Page]) -> str:
        return path.stem
