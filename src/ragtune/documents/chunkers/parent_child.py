"""Small child chunks are searched; their larger parent is what the LLM reads."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from ragtune.documents.chunkers.base import (
    Chunker,
    ChunkerConfig,
    ChunkFactory,
    Span,
    chunkers,
    pack,
    sentences,
    units,
)
from ragtune.documents.chunkers.recursive import RecursiveChunker, RecursiveConfig
from ragtune.documents.models import Chunk, Document
from ragtune.documents.tokenizer import SpanCounter


class ParentChildConfig(ChunkerConfig):
    name: Literal["parent_child"] = "parent_child"
    chunk_tokens: int = 64
    overlap_tokens: int = 0
    parent_tokens: int = 256

    @model_validator(mode="after")
    def _parent_larger(self) -> ParentChildConfig:
        if self.parent_tokens <= self.chunk_tokens:
            raise ValueError("parent_tokens must be larger than chunk_tokens")
        return self


@chunkers.register("parent_child")
class ParentChildChunker(Chunker):
    """Parents come from the recursive chunker; each is cut into sentence-packed children."""

    Config = ParentChildConfig

    def __init__(self, config: ParentChildConfig, counter) -> None:
        super().__init__(config, counter)
        self.parents = RecursiveChunker(RecursiveConfig(chunk_tokens=config.parent_tokens, overlap_tokens=0),
                                        counter)

    def split(self, text: str, sc: SpanCounter, span: Span) -> list[Span]:
        return self.parents.split(text, sc, span)

    def chunk(self, doc: Document) -> list[Chunk]:
        sc = SpanCounter(self.counter, doc.text)
        make = ChunkFactory(doc, sc)
        out: list[Chunk] = []
        n_child = 0
        parent_spans = [s for unit in units(doc) for s in self.split(doc.text, sc, unit)]
        for i, parent_span in enumerate(parent_spans):
            parent = make(i, parent_span, prefix="p", indexed=False)
            out.append(parent)
            for span in pack(sentences(doc.text, parent_span), sc, self.config.chunk_tokens,
                             self.config.overlap_tokens):
                out.append(make(n_child, span, parent_id=parent.id))
                n_child += 1
        return out
