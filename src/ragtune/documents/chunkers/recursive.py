"""Structure-aware recursive splitting: sections, then paragraphs, lines, sentences, words."""

from __future__ import annotations

import re
from typing import Literal

from ragtune.documents.chunkers.base import (
    Chunker,
    ChunkerConfig,
    Span,
    chunkers,
    pack,
    sections,
    sentences,
    split_at,
)
from ragtune.documents.tokenizer import SpanCounter

_PARAGRAPH = re.compile(r"\n[ \t]*\n")
_LINE = re.compile(r"\n")
_WORD = re.compile(r"\s+")


class RecursiveConfig(ChunkerConfig):
    name: Literal["recursive"] = "recursive"


@chunkers.register("recursive")
class RecursiveChunker(Chunker):
    """Splits at the coarsest boundary that makes pieces fit, then packs neighbours within a section."""

    Config = RecursiveConfig

    def split(self, text: str, sc: SpanCounter, span: Span) -> list[Span]:
        size, overlap = self.config.chunk_tokens, self.config.overlap_tokens
        out: list[Span] = []
        for section in sections(text, span):
            out.extend(pack(self._pieces(text, sc, section, 0), sc, size, overlap))
        return out

    def _pieces(self, text: str, sc: SpanCounter, span: Span, level: int) -> list[Span]:
        if sc.count(*span) <= self.config.chunk_tokens or level == 4:
            return [span]
        if level == 0:
            parts = split_at(text, span, _PARAGRAPH)
        elif level == 1:
            parts = split_at(text, span, _LINE)
        elif level == 2:
            parts = sentences(text, span)
        else:
            parts = split_at(text, span, _WORD)
        if len(parts) <= 1:
            return self._pieces(text, sc, span, level + 1)
        return [p for part in parts for p in self._pieces(text, sc, part, level + 1)]
