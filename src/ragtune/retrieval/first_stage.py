"""Retrieval stages: ``bm25``, ``dense`` and ``hybrid`` over every query the pre-retrieval stages made
(several queries are fused by reciprocal rank fusion; HyDE texts replace the dense query)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

import numpy as np

from ragtune.retrieval.fusion import reciprocal_rank_fusion
from ragtune.retrieval.hybrid import Hit, HybridRetriever
from ragtune.retrieval.pipeline import Component, ComponentConfig, QueryContext, components


class FirstStageConfig(ComponentConfig):
    """Overrides of the ``retrieval`` settings for this stage (None = use the settings)."""

    bm25_weight: float | None = None
    dense_weight: float | None = None
    rrf_k: int | None = None


class FirstStage(Component):
    kind = "retrieve"
    mode: Literal["bm25", "dense", "hybrid"]
    Config = FirstStageConfig

    def run(self, ctx: QueryContext) -> dict[str, Any]:
        base = self.resources.settings
        overrides = {k: v for k, v in self.config.model_dump(exclude={"name"}).items() if v is not None}
        retriever = HybridRetriever(base.model_copy(update={"mode": self.mode, **overrides}), self.resources.store,
                                    self.resources.bm25, self.resources.vectors, self.resources.embedder)
        vector = None
        if ctx.dense_texts and self.mode != "bm25":
            v = self.resources.embedder.embed(ctx.dense_texts).mean(axis=0)
            vector = (v / (np.linalg.norm(v) or 1.0)).astype(np.float32)
        results = [retriever.retrieve(q, ctx.fetch_k, ctx.filters, dense_vector=vector) for q in ctx.queries]
        sims = [r.best_similarity for r in results if r.best_similarity is not None]
        ctx.best_similarity = max(sims) if sims else None
        if len(results) == 1:
            ctx.hits = results[0].hits
        else:
            by_id: dict[str, Hit] = {}
            for r in results:
                for h in r.hits:
                    by_id.setdefault(h.chunk.id, h)
            fused = reciprocal_rank_fusion([[h.chunk.id for h in r.hits] for r in results], k=base.rrf_k)
            ctx.hits = [Hit(by_id[i].chunk, s, by_id[i].bm25_score, by_id[i].dense_similarity, by_id[i].matched)
                        for i, s in fused[: ctx.fetch_k]]
        details: dict[str, Any] = {"queries": len(ctx.queries), "hyde": bool(vector is not None),
                                   "candidates": [h.chunk.id for h in ctx.hits]}
        if self.mode != "bm25":  # per query: each scan the store ran; more than one = a short search widened
            details["dense_scans"] = [[asdict(s) for s in r.dense_scans] for r in results]
        return details


@components.register("bm25")
class BM25Stage(FirstStage):
    """Lexical retrieval only."""

    mode = "bm25"


@components.register("dense")
class DenseStage(FirstStage):
    """Embedding retrieval only."""

    mode = "dense"


@components.register("hybrid")
class HybridStage(FirstStage):
    """BM25 and dense fused by weighted reciprocal rank fusion."""

    mode = "hybrid"
