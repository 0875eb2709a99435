"""Sentence-window retrieval: sentences are searched, the window of sentences around each is returned.
Works with the ``sentence_window`` chunker, which stores each sentence's window in its metadata."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ragtune.retrieval.pipeline import Component, ComponentConfig, QueryContext, components


class SentenceWindowConfig(ComponentConfig):
    pass


@components.register("sentence_window")
class SentenceWindow(Component):
    """Replaces each retrieved sentence by its stored window; overlapping windows are merged away."""

    kind = "post"
    Config = SentenceWindowConfig

    def run(self, ctx: QueryContext) -> dict[str, Any]:
        out, spans, expanded = [], [], 0
        for h in ctx.hits:
            window = h.chunk.metadata.get("window")
            if window is None:
                out.append(h)
                continue
            start, end = h.chunk.metadata["window_start"], h.chunk.metadata["window_end"]
            if any(s <= start and end <= e and src == h.chunk.doc_source for src, s, e in spans):
                continue
            spans.append((h.chunk.doc_source, start, end))
            h.chunk = replace(h.chunk, text=window, start=start, end=end)
            out.append(h)
            expanded += 1
        if not expanded and ctx.hits:
            ctx.warn("sentence_window: chunks carry no windows; use the sentence_window chunker")
        ctx.hits = out
        return {"expanded": expanded}
