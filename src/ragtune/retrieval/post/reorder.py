"""Ordering against "lost in the middle" (Liu et al., 2023): the best chunks at the start and the end."""

from __future__ import annotations

from typing import Any

from ragtune.retrieval.pipeline import Component, ComponentConfig, QueryContext, components


class ReorderConfig(ComponentConfig):
    pass


@components.register("reorder")
class LostInTheMiddleReorder(Component):
    """Ranks 1, 3, 5, ... from the front and 2, 4, 6, ... from the back, so the weakest sit in the middle."""

    kind = "post"
    Config = ReorderConfig

    def run(self, ctx: QueryContext) -> dict[str, Any]:
        hits = ctx.hits[: ctx.top_k]
        front, back = hits[0::2], hits[1::2]
        ctx.hits = front + back[::-1] + ctx.hits[ctx.top_k:]
        return {"order": [h.chunk.id for h in ctx.hits[: ctx.top_k]]}
