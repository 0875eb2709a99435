"""Whole sentences packed up to a token budget."""

from __future__ import annotations

from typing import Literal

from ragtune.documents.chunkers.base import Chunker, ChunkerConfig, Span, chunkers, pack, sentences
from ragtune.documents.tokenizer import SpanCounter


class SentenceConfig(ChunkerConfig):
    name: Literal["sentence"] = "sentence"


@chunkers.register("sentence")
class SentenceChunker(Chunker):
    """Never cuts inside a sentence (unless one sentence alone exceeds the budget)."""

    Config = SentenceConfig

    def split(self, text: str, sc: SpanCounter, span: Span) -> list[Span]:
        return pack(sentences(text, span), sc, self.config.chunk_tokens, self.config.overlap_tokens)
