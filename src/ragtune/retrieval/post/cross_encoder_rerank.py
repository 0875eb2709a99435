"""Cross-encoder reranking with any sentence-transformers CrossEncoder (a local path, a hub id, or a
reranker trained by ``ragtune tune reranker``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ragtune.retrieval.pipeline import Component, ComponentConfig, QueryContext, components


class CrossEncoderConfig(ComponentConfig):
    model: str | None = Field(None, description="A registry version id or champion (trained by `ragtune tune "
                              "reranker`), a local folder or a hub id; default: the champion reranker.")
    candidates: int = 30
    batch_size: int = 16


@components.register("rerank")
class CrossEncoderRerank(Component):
    """Scores (question, passage) pairs jointly; more accurate than the bi-encoder, slower per candidate."""

    kind = "post"
    narrows = True
    Config = CrossEncoderConfig

    def run(self, ctx: QueryContext) -> dict[str, Any]:
        pool, rest = ctx.hits[: self.config.candidates], ctx.hits[self.config.candidates:]
        if not pool:
            return {"before": [], "after": []}
        model = self.resources.cross_encoder(self.config.model or "champion")
        scores = model.predict([(ctx.question, h.chunk.text) for h in pool], batch_size=self.config.batch_size,
                               show_progress_bar=False)
        order = sorted(range(len(pool)), key=lambda i: -float(scores[i]))
        for i in order:
            pool[i].score = float(scores[i])
        ctx.hits = [pool[i] for i in order] + rest
        return {"before": [h.chunk.id for h in pool], "after": [pool[i].chunk.id for i in order]}
