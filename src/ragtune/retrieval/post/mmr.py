"""Maximal marginal relevance (Carbonell & Goldstein, 1998): relevant but not redundant chunks."""

from __future__ import annotations

from typing import Any

import numpy as np

from ragtune.retrieval.pipeline import Component, ComponentConfig, QueryContext, components


class MMRConfig(ComponentConfig):
    lambda_: float = 0.7
    candidates: int = 20


@components.register("mmr")
class MMR(Component):
    """Greedy selection maximising lambda * sim(query, d) - (1 - lambda) * max sim(d, selected)."""

    kind = "post"
    narrows = True
    Config = MMRConfig

    def run(self, ctx: QueryContext) -> dict[str, Any]:
        pool, rest = ctx.hits[: self.config.candidates], ctx.hits[self.config.candidates:]
        if len(pool) < 2:
            return {"selected": [h.chunk.id for h in pool]}
        emb = self.resources.embedder
        docs = emb.embed_cached([h.chunk.text for h in pool], self.resources.store)
        relevance = docs @ emb.embed_query(ctx.question)
        similarity = docs @ docs.T
        lam = self.config.lambda_
        selected: list[int] = []
        remaining = list(range(len(pool)))
        while remaining and len(selected) < ctx.top_k:
            penalty = similarity[np.ix_(remaining, selected)].max(axis=1) if selected else np.zeros(len(remaining))
            scores = lam * relevance[remaining] - (1 - lam) * penalty
            best = remaining[int(np.argmax(scores))]
            selected.append(best)
            remaining.remove(best)
        ctx.hits = [pool[i] for i in selected] + [pool[i] for i in remaining] + rest
        return {"selected": [pool[i].chunk.id for i in selected]}
