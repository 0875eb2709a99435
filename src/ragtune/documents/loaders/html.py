"""HTML pages: visible text, headings kept as Markdown headings for the structure-aware chunker."""

from __future__ import annotations

from pathlib import Path

from ragtune.documents.loaders.base import Loader, LoadError, decode_text, loaders
from ragtune.documents.models import Page
from ragtune.documents.tables import grid_rows

_BLOCKS = ("p", "li", "tr", "pre", "blockquote", "dd", "dt", "div", "section", "article")


def html_table_rows(table) -> list[str]:
    """Row lines of a ``<table>``: headers from ``<thead>`` or the leading rows of ``<th>`` cells (else the first
    row), title from its ``<caption>`` or the nearest heading before it."""
    rows = [r for r in table.find_all("tr") if r.find_parent("table") is table]
    grid = [[c.get_text(" ", strip=True) for c in r.find_all(["td", "th"]) if c.find_parent("tr") is r] for r in rows]
    heads = sum(1 for r in rows if r.find_parent("thead") is not None)
    if not heads:
        heads = next((i for i, r in enumerate(rows) if r.find("td") is not None), len(rows)) or 1
    caption = table.find("caption")
    heading = table.find_previous(["h1", "h2", "h3", "h4", "h5", "h6"])
    title = caption.get_text(" ", strip=True) if caption else heading.get_text(" ", strip=True) if heading else None
    return grid_rows(grid, title, heads)


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
        if self.tables:
            for table in body.find_all("table")[::-1]:  # innermost last: a nested table is read with its own
                table.replace_with(f"\n\n{chr(10).join(html_table_rows(table))}\n\n")
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
