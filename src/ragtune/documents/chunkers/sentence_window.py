"""One chunk per sentence, each carrying the window of sentences around it (for sentence-window retrieval)."""

from __future__ import annotations

from typing import Literal

from ragtune.documents.chunkers.base import Chunker, ChunkerConfig, ChunkFactory, Span, chunkers, sentences, units
from ragtune.documents.models import Chunk, Document
from ragtune.documents.tokenizer import SpanCounter


class SentenceWindowConfig(ChunkerConfig):
    name: Literal["sentence_window"] = "sentence_window"
    chunk_tokens: int = 128
    overlap_tokens: int = 0
    window: int = 2


@chunkers.register("sentence_window")
class SentenceWindowChunker(Chunker):
    """Sentences are the searchable units (long ones cut to ``chunk_tokens``); ``window`` sentences on
    each side are stored in the chunk metadata and shown by the ``sentence_window`` pipeline stage."""

    Config = SentenceWindowConfig

    def split(self, text: str, sc: SpanCounter, span: Span) -> list[Span]:
        return sentences(text, span)

    def chunk(self, doc: Document) -> list[Chunk]:
        sc = SpanCounter(self.counter, doc.text)
        make = ChunkFactory(doc, sc)
        out: list[Chunk] = []
        w = self.config.window
        for unit in units(doc):
            spans = self.split(doc.text, sc, unit)
            for i, (s, e) in enumerate(spans):
                ws, we = spans[max(0, i - w)][0], spans[min(len(spans) - 1, i + w)][1]
                chunk = make(len(out), (s, e))
                if chunk.n_tokens > self.config.chunk_tokens:
                    i0, _ = sc.token_span(s, e)
                    e = sc.offsets[i0 + self.config.chunk_tokens - 1][1]
                    chunk = make(len(out), (s, e))
                chunk.metadata |= {"window": doc.text[ws:we], "window_start": ws, "window_end": we}
                out.append(chunk)
        return out
