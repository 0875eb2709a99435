"""Word documents: paragraphs (headings as Markdown headings) and tables."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from ragtune.documents.loaders.base import Loader, LoadError, loaders
from ragtune.documents.models import Page


@loaders.register("docx")
class DocxLoader(Loader):
    suffixes = (".docx",)

    def load(self, path: Path, data: bytes) -> list[Page]:
        import docx

        try:
            document = docx.Document(io.BytesIO(data))
        except (zipfile.BadZipFile, KeyError, ValueError) as e:
            raise LoadError(f"corrupt DOCX: {e}") from None
        parts = []
        for p in document.paragraphs:
            style = (p.style.name or "") if p.style is not None else ""
            if style.startswith("Heading") and style[-1:].isdigit():
                parts.append(f"{'#' * int(style[-1])} {p.text}")
            elif style == "Title":
                parts.append(f"# {p.text}")
            elif p.text.strip():
                parts.append(p.text)
        for table in document.tables:
            parts.extend(" | ".join(c.text.strip() for c in row.cells) for row in table.rows)
        self._title = document.core_properties.title or None
        text = "\n\n".join(parts).strip()
        if not text:
            raise LoadError("DOCX has no text")
        return [Page(1, text)]

    def title(self, path: Path, pages: list[Page]) -> str:
        return self._title or path.stem
