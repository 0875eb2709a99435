"""De-duplication: drop chunks that repeat a higher-ranked chunk (overlapping windows, copied clauses)."""

from __future__ import annotations

from typing import Any

from ragtune.retrieval.pipeline import Component, ComponentConfig, QueryContext, components
from ragtune.text import content_words


class DedupeConfig(ComponentConfig):
    max_overlap: float = 0.8


@components.register("dedupe")
class Dedupe(Component):
    """A chunk goes when most of its own content words occur in one ranked above it (a short chunk inside a long
    kept one goes; a long chunk that merely contains a short kept one stays)."""

    kind = "post"
    Config = DedupeConfig

    def run(self, ctx: QueryContext) -> dict[str, Any]:
        kept, words, dropped = [], [], []
        for hit in ctx.hits:
            w = content_words(hit.chunk.text)
            if w and any(len(w & other) / len(w) >= self.config.max_overlap for other in words):
                dropped.append(hit.chunk.id)
                continue
            kept.append(hit)
            words.append(w)
        ctx.hits = kept
        return {"dropped": dropped}
