"""``graph``: local knowledge-graph search as a post-retrieval stage. The entities the question names, their
relations and neighbours point to supporting chunks, which are fused with the incoming ranking by RRF
(``ragtune ask --pipeline graph`` runs ``hybrid+graph``). Without a saved graph, one is built with the rule
extractor (fast, no LLM) when that is the configured extractor."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from ragtune.retrieval.fusion import reciprocal_rank_fusion
from ragtune.retrieval.hybrid import Hit
from ragtune.retrieval.pipeline import Component, ComponentConfig, QueryContext, components


class GraphSearchConfig(ComponentConfig):
    weight: float = Field(1.0, ge=0, description="RRF weight of the graph ranking (the incoming ranking has 1).")
    max_chunks: int = Field(10, ge=1)
    hops: int = Field(1, ge=1, le=2)
    entity_similarity: float = Field(0.5, description="Embedding match threshold when no entity is named.")
    max_entities: int = Field(5, ge=1)


@components.register("graph")
class GraphSearch(Component):
    """Adds the chunks supporting the question's entity neighbourhood; ties are broken by dense similarity."""

    kind = "post"
    Config = GraphSearchConfig

    def _search(self, ctx: QueryContext):
        from ragtune.index.graph.search import LocalGraphSearch

        graph, warnings = self.resources.graph()
        for w in warnings:
            ctx.warn(f"graph: {w}")
        c = self.config
        return LocalGraphSearch(graph, self.resources.embedder, self.resources.store, c.entity_similarity,
                                c.max_entities, c.hops)

    def run(self, ctx: QueryContext) -> dict[str, Any]:
        search = self._search(ctx)
        allowed = self.resources.store.matching_ids(ctx.filters) if ctx.filters else None
        result = search.search(ctx.question, allowed)
        details: dict[str, Any] = {"entities": [{"name": m.name, "by": m.by, "weight": m.weight}
                                                for m in result.matches],
                                   "neighbours": [search.graph.node(n)["name"] for n in result.neighbours[:20]]}
        if not result.chunk_scores:
            details["added"] = []
            return details
        pool = result.chunk_scores[: self.config.max_chunks * 3]
        chunks = {c.id: c for c in self.resources.store.chunks([cid for cid, _ in pool])}
        pool = [(cid, s) for cid, s in pool if cid in chunks]
        vectors = self.resources.embedder.embed_cached([chunks[cid].text for cid, _ in pool], self.resources.store)
        sims = vectors @ self.resources.embedder.embed_query(ctx.question) if len(pool) else np.zeros(0)
        order = sorted(range(len(pool)), key=lambda i: (-pool[i][1], -sims[i]))[: self.config.max_chunks]
        parents = {c.id: c for c in self.resources.store.chunks(sorted({chunks[pool[i][0]].parent_id for i in order
                                                                     if chunks[pool[i][0]].parent_id}))}
        graph_hits: dict[str, Hit] = {}
        for i in order:
            child = chunks[pool[i][0]]
            shown = parents.get(child.parent_id, child) if child.parent_id else child
            graph_hits.setdefault(shown.id, Hit(shown, pool[i][1], None, round(float(sims[i]), 6)))
        incoming = {h.chunk.id: h for h in ctx.hits}
        fused = reciprocal_rank_fusion([list(incoming), list(graph_hits)], [1.0, self.config.weight],
                                       self.resources.settings.rrf_k)
        ctx.hits = [Hit(h.chunk, score, h.bm25_score, h.dense_similarity, h.matched)
                    for cid, score in fused[: max(ctx.fetch_k, len(incoming))]
                    for h in [incoming.get(cid) or graph_hits[cid]]]
        details["graph_chunks"] = list(graph_hits)
        details["added"] = [cid for cid in graph_hits if cid not in incoming and cid in {h.chunk.id for h in ctx.hits}]
        return details
