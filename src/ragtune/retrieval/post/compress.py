"""Contextual compression: keep the sentences closest to the question, within a token budget."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ragtune.documents.chunkers.base import sentences
from ragtune.retrieval.pipeline import Component, ComponentConfig, QueryContext, components


class CompressConfig(ComponentConfig):
    max_tokens: int = 400
    min_similarity: float = 0.15


@components.register("compress")
class Compress(Component):
    """Scores every sentence of the kept chunks against the question (embedding cosine), keeps the best
    ones up to ``max_tokens`` in total, and shows each chunk as its kept sentences in document order."""

    kind = "post"
    Config = CompressConfig

    def run(self, ctx: QueryContext) -> dict[str, Any]:
        hits = ctx.hits[: ctx.top_k]
        pieces = []  # (hit index, start, end, text)
        for i, h in enumerate(hits):
            for s, e in sentences(h.chunk.text, (0, len(h.chunk.text))):
                pieces.append((i, s, e, h.chunk.text[s:e]))
        if not pieces:
            return {}
        emb = self.resources.embedder
        sims = emb.embed_cached([p[3] for p in pieces], self.resources.store) @ emb.embed_query(ctx.question)
        count = self.resources.count_tokens
        budget, keep = self.config.max_tokens, set()
        before = sum(h.chunk.n_tokens for h in hits)
        for j in sorted(range(len(pieces)), key=lambda j: -sims[j]):
            n = count(pieces[j][3])
            if sims[j] < self.config.min_similarity or n > budget:
                continue
            keep.add(j)
            budget -= n
        compressed = []
        for i, h in enumerate(hits):
            kept = [pieces[j][3] for j in sorted(keep) if pieces[j][0] == i]
            if kept:
                text = " ".join(kept)
                h.chunk = replace(h.chunk, text=text, n_tokens=count(text))
                compressed.append(h)
        ctx.hits = compressed
        return {"tokens_before": before, "tokens_after": sum(h.chunk.n_tokens for h in compressed),
                "sentences_kept": len(keep), "sentences_total": len(pieces)}
