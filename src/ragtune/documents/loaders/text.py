"""Plain text and Markdown."""

from __future__ import annotations

import re
from pathlib import Path

from ragtune.documents.loaders.base import Loader, decode_text, loaders
from ragtune.documents.models import Page
from ragtune.documents.tables import markdown_tables

_MD_TITLE = re.compile(r"^#[ \t]+(.+)$", re.MULTILINE)


@loaders.register("text")
class TextLoader(Loader):
    suffixes = (".txt", ".text", ".rst", ".log")

    def load(self, path: Path, data: bytes) -> list[Page]:
        return [Page(1, decode_text(data))]


@loaders.register("markdown")
class MarkdownLoader(TextLoader):
    """Markdown is kept as text: its ``#`` headings drive the structure-aware chunker."""

    suffixes = (".md", ".markdown")

    def load(self, path: Path, data: bytes) -> list[Page]:
        text = decode_text(data)
        return [Page(1, markdown_tables(text) if self.tables else text)]

    def title(self, path: Path, pages: list[Page]) -> str:
        m = _MD_TITLE.search(pages[0].text) if pages else None
        return m.group(1).strip() if m else path.stem
