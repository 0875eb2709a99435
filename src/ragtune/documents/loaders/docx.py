"""Word documents: paragraphs (headings as Markdown headings) and tables."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from ragtune.documents.loaders.base import Loader, LoadError, loaders
from ragtune.documents.models import Page
from ragtune.documents.tables import grid_rows


@loaders.register("docx")
class DocxLoader(Loader):
    suffixes = (".docx",)

    def load(self, path: Path, data: bytes) -> list[Page]:
        import docx
        from docx.table import Table

        try:
            document = docx.Document(io.BytesIO(data))
        except (zipfile.BadZipFile, KeyError, ValueError) as e:
            raise LoadError(f"corrupt DOCX: {e}") from None
        parts: list[str] = []
        heading = None
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                grid = [[c.text.strip() for c in row.cells] for row in block.rows]
                rows = grid_rows(grid, heading) if self.tables else [" | ".join(r) for r in grid]
                parts.append("\n".join(rows))
                continue
            style = (block.style.name or "") if block.style is not None else ""
            if style.startswith("Heading") and style[-1:].isdigit():
                parts.append(f"{'#' * int(style[-1])} {block.text}")
                heading = block.text.strip()
            elif style == "Title":
                parts.append(f"# {block.text}")
                heading = block.text.strip()
            elif block.text.strip():
                parts.append(block.text)
        self._title = document.core_properties.title or None
        text = "\n\n".join(parts).strip()
        if not text:
            raise LoadError("DOCX has no text")
        return [Page(1, text)]

    def title(self, path: Path, pages: list[Page]) -> str:
        return self._title or path.stem
