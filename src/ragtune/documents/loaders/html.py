"""HTML pages: visible text, headings kept as Markdown headings for the structure-aware chunker."""

from __future__ import annotations

from pathlib import Path

from ragtune.documents.loaders.base import Loader, LoadError, decode_text, loaders
from ragtune.documents.models import Page

_BLOCKS = ("p", "li", "tr", "pre", "blockquote", "dd", "dt", "div", "section", "article")


@loaders.register("html")
class HtmlLoader(Loader):
    suffixes = (".html", ".htm", ".xhtml")

    def load(self, path: Path, data: bytes) -> list[Page]:
        from bs4 import BeautifulSoup

        soup = BeautifulSoup(decode_text(data), "html.parser")
        for tag in soup(["script", "style", "noscript", "template", "nav", "footer"]):
            tag.decompose()
        self._title = soup.title.get_text(strip=True) if soup.title else None
        body = soup.body or soup
        for level in range(1, 7):
            for h in body.find_all(f"h{level}"):
                h.replace_with(f"\n\n{'#' * level} {h.get_text(' ', strip=True)}\n\n")
        for tag in body.find_all(_BLOCKS):
            tag.insert_before("\n\n")
        lines = (" ".join(line.split()) for line in body.get_text().splitlines())
        text = "\n".join(lines)
        while "\n\n\n" in text:
            text = text.replace("\n\n\n", "\n\n")
        if not text.strip():
            raise LoadError("HTML has no visible text")
        return [Page(1, text.strip())]

    def title(self, path: Path, pages: list[Page]) -> str:
        return self._title or path.stem
