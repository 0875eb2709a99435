"""Fixed windows of N tokens with overlap."""

from __future__ import annotations

from typing import Literal

from ragtune.documents.chunkers.base import Chunker, ChunkerConfig, Span, chunkers, strip_span, token_windows
from ragtune.documents.tokenizer import SpanCounter


class TokenWindowConfig(ChunkerConfig):
    name: Literal["token_window"] = "token_window"


@chunkers.register("token_window")
class TokenWindowChunker(Chunker):
    """Slides a window of ``chunk_tokens`` tokens over the text, ``overlap_tokens`` shared."""

    Config = TokenWindowConfig

    def split(self, text: str, sc: SpanCounter, span: Span) -> list[Span]:
        inner = strip_span(text, span)
        if inner is None:
            return []
        return token_windows(sc, inner, self.config.chunk_tokens, self.config.overlap_tokens)
