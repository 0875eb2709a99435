"""Chunker interface and the span arithmetic the chunkers share."""

from __future__ import annotations

import bisect
import hashlib
import re
from abc import ABC, abstractmethod
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, model_validator

from ragtune.documents.models import Chunk, Document
from ragtune.documents.tokenizer import SpanCounter, TokenCounter
from ragtune.registry import Registry
from ragtune.text import CHUNK_SENTENCES, sentence_cuts, table_row_spans

Span = tuple[int, int]

_HEADING = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]+\S.*|(?:ARTICLE|Article|SECTION|Section)[ \t]+[0-9IVXLC]+\b.*"
    r"|\d{1,2}(?:\.\d{1,2})*\.?[ \t]+[A-Z][A-Za-z ,&/'-]{2,80}\.?|[A-Z][A-Z0-9 ,&/'-]{3,80})[ \t]*$",
    re.MULTILINE,
)


class ChunkerConfig(BaseModel):
    """Options every chunker has. Token counts use the embedder's tokenizer."""

    model_config = ConfigDict(extra="forbid")
    chunk_tokens: int = 200
    overlap_tokens: int = 30

    @model_validator(mode="after")
    def _check_sizes(self) -> ChunkerConfig:
        if self.chunk_tokens < 16:
            raise ValueError("chunk_tokens must be at least 16")
        if not 0 <= self.overlap_tokens < self.chunk_tokens:
            raise ValueError("overlap_tokens must be >= 0 and smaller than chunk_tokens")
        return self


class Chunker(ABC):
    """Splits a document into chunks. Subclasses return character spans; this class builds chunks.
    Pages of paged documents (PDF pages, records) are hard boundaries, so every chunk has one page."""

    name: ClassVar[str]
    Config: ClassVar[type[ChunkerConfig]] = ChunkerConfig

    def __init__(self, config: ChunkerConfig, counter: TokenCounter) -> None:
        self.config = config
        self.counter = counter

    @abstractmethod
    def split(self, text: str, sc: SpanCounter, span: Span) -> list[Span]:
        """Character spans of the chunks of ``text[span[0]:span[1]]``."""

    def chunk(self, doc: Document) -> list[Chunk]:
        sc = SpanCounter(self.counter, doc.text)
        make = ChunkFactory(doc, sc)
        spans = [s for unit in units(doc) for s in self.split(doc.text, sc, unit)]
        return [make(i, span) for i, span in enumerate(spans)]


class ChunkFactory:
    """Builds chunks of one document: ids, token counts, page and section metadata."""

    def __init__(self, doc: Document, sc: SpanCounter) -> None:
        self.doc = doc
        self.sc = sc
        self.headings = [(m.start(), m.group(0).strip().lstrip("#").strip()) for m in _HEADING.finditer(doc.text)]
        self.heading_starts = [h[0] for h in self.headings]

    def section_at(self, offset: int) -> str | None:
        i = bisect.bisect_right(self.heading_starts, offset) - 1
        return self.headings[i][1] if i >= 0 else None

    def context(self, section: str | None, text: str) -> str:
        """``document title > section heading > table title`` (the parts known, each once)."""
        rows = table_row_spans(text)
        first = text[rows[0][0]:rows[0][1]].split(" | ") if rows else []
        table = first[0] if len(first) >= 3 else None
        parts = [p for p in (self.doc.title, section, table) if p]
        return " > ".join(dict.fromkeys(parts))

    def __call__(self, i: int, span: Span, prefix: str = "c", **kw) -> Chunk:
        start, end = span
        section = self.section_at(start)
        text = self.doc.text[start:end]
        return Chunk(
            id=f"{doc_key(self.doc.source)}-{prefix}{i:04d}",
            doc_source=self.doc.source,
            text=text,
            start=start,
            end=end,
            page=self.doc.page_at(start),
            n_tokens=self.sc.count(start, end),
            metadata={**({"section": section} if section else {}), "context": self.context(section, text)},
            **kw,
        )


def units(doc: Document) -> list[Span]:
    """The spans chunks may not cross: each page of a paged document, else the whole text."""
    if not doc.paged:
        return [(0, len(doc.text))]
    return [(start, start + len(page.text)) for start, page in zip(doc.page_starts, doc.pages, strict=True)]


def doc_key(source: str) -> str:
    return hashlib.sha1(source.encode()).hexdigest()[:12]


def strip_span(text: str, span: Span) -> Span | None:
    start, end = span
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def token_windows(sc: SpanCounter, span: Span, size: int, overlap: int) -> list[Span]:
    """Windows of at most ``size`` tokens inside ``span``, about ``overlap`` tokens shared between
    neighbours. Windows start and end on word boundaries, never inside a word's subword tokens."""
    i, j = sc.token_span(*span)
    if i >= j:
        return [span]
    out: list[Span] = []
    a = i
    while True:
        b = min(a + size, j)
        if b < j:
            b = max(sc.word_start(b, floor=a + 1), a + 1)
        out.append((max(sc.offsets[a][0], span[0]), min(sc.offsets[b - 1][1], span[1])))
        if b >= j:
            return out
        a = max(sc.word_start(b - overlap, floor=a + 1), a + 1) if overlap else b


def split_at(text: str, span: Span, pattern: re.Pattern[str], before: bool = False) -> list[Span]:
    """Cut ``span`` at each match of ``pattern``: after the match, or before it when ``before``."""
    cuts = [m.start() if before else m.end() for m in pattern.finditer(text, span[0], span[1])]
    bounds = [span[0], *[c for c in cuts if span[0] < c < span[1]], span[1]]
    pieces = (strip_span(text, (a, b)) for a, b in zip(bounds, bounds[1:], strict=False))
    return [p for p in pieces if p]


def sentences(text: str, span: Span) -> list[Span]:
    """Sentences of ``span``; a table row line is one sentence."""
    cuts = [end for _, end in sentence_cuts(text, CHUNK_SENTENCES, *span)]
    bounds = [span[0], *[c for c in cuts if span[0] < c < span[1]], span[1]]
    pieces = (strip_span(text, (a, b)) for a, b in zip(bounds, bounds[1:], strict=False))
    return [p for p in pieces if p]


def sections(text: str, span: Span) -> list[Span]:
    return split_at(text, span, _HEADING, before=True)


def pack(pieces: list[Span], sc: SpanCounter, size: int, overlap: int) -> list[Span]:
    """Merge consecutive pieces into chunks of at most ``size`` tokens, repeating up to ``overlap``
    tokens of whole pieces at the start of the next chunk. Oversized pieces become token windows."""
    units: list[Span] = []
    for p in pieces:
        units.extend(token_windows(sc, p, size, overlap) if sc.count(*p) > size else [p])
    chunks: list[Span] = []
    i = 0
    while i < len(units):
        j, total = i, 0
        while j < len(units) and (j == i or total + sc.count(*units[j]) <= size):
            total += sc.count(*units[j])
            j += 1
        chunks.append((units[i][0], units[j - 1][1]))
        if j >= len(units):
            break
        back, k = 0, j
        while k - 1 > i and back + sc.count(*units[k - 1]) <= overlap:
            k -= 1
            back += sc.count(*units[k])
        i = k
    return chunks


chunkers: Registry[Chunker] = Registry("chunker")
