"""The data a document turns into: pages of text, then chunks with their provenance."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Page:
    """A unit of a source that citations point to: a PDF page, or a record of a CSV/JSONL file."""

    number: int
    text: str


@dataclass
class Document:
    """One loaded source file. ``text`` is the pages joined by blank lines; offsets index into it."""

    source: str
    title: str
    sha256: str
    pages: list[Page]
    metadata: dict[str, Any] = field(default_factory=dict)
    paged: bool = False
    text: str = field(init=False)
    page_starts: list[int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        starts, parts, pos = [], [], 0
        for page in self.pages:
            starts.append(pos)
            parts.append(page.text)
            pos += len(page.text) + 2
        self.text = "\n\n".join(parts)
        self.page_starts = starts

    def page_at(self, offset: int) -> int | None:
        """The page (or record) number holding character ``offset`` of ``text``; None if not paged."""
        if not self.paged:
            return None
        i = max(bisect.bisect_right(self.page_starts, offset) - 1, 0)
        return self.pages[i].number


@dataclass
class Chunk:
    """A retrievable piece of a document. Parent chunks (``indexed=False``) are returned, not searched."""

    id: str
    doc_source: str
    text: str
    start: int
    end: int
    page: int | None
    n_tokens: int
    parent_id: str | None = None
    indexed: bool = True
    metadata: dict[str, Any] = field(default_factory=dict)

    def index_text(self, context: bool = True) -> str:
        """What BM25 and the embedder index: ``metadata["context"]`` (document title > section > table title) and
        the text, or the text alone; the text is what is stored and shown."""
        ctx = self.metadata.get("context") if context else None
        return f"{ctx}\n{self.text}" if ctx else self.text
