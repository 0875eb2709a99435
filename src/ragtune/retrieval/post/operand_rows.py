"""Operand rows: a question that asks for a calculation (the answer pack's ``calculation``) needs the table row
of each operand, and similarity search often ranks a statement's row below the prose that discusses it. For each
operand, this stage holds the chunk the pack reads it from (``pick_operand``) among the top hits and the chunks
of the top document, the top hits first (so a pack that takes the first reading keeps a retrieved one, and a
pack that ranks readings may prefer a better row elsewhere in the filing); the chunks holding operands go first,
and the pipeline keeps at least as many hits as there are such chunks. Other questions are left alone. No LLM."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ragtune.documents.models import Chunk
from ragtune.index.store import glob_escape
from ragtune.retrieval.hybrid import Hit
from ragtune.retrieval.pipeline import Component, ComponentConfig, QueryContext, components


class OperandRowsConfig(ComponentConfig):
    documents: int = Field(1, ge=1, description="The top documents (by their best hit) searched for the operands "
                                                "the retrieved passages lack.")


@components.register("operand_rows")
class OperandRows(Component):
    """Holds, for each operand, the chunk the pack reads it from among the top ``top_k`` hits and the chunks of
    the ``documents`` best-ranked documents (the top hits first)."""

    kind = "post"
    Config = OperandRowsConfig

    def run(self, ctx: QueryContext) -> dict[str, Any]:
        pack = self.resources.pack
        calc = pack.calculation(ctx.question)
        if calc is None or not ctx.hits:
            return {"added": 0, "reason": "no calculation asked"}
        top = ctx.hits[: ctx.top_k]
        retrieved = {h.chunk.id for h in top}
        candidates = [*top, *(Hit(c, ctx.hits[0].score) for c in self.document_chunks(ctx.hits)
                              if c.id not in retrieved)]
        texts = [h.chunk.text for h in candidates]
        holding: dict[str, Hit] = {}
        added, not_found = 0, []
        for operand in calc.operands:
            found = pack.pick_operand(operand, texts)
            if found is None:
                not_found.append(operand.label)
                continue
            hit = candidates[found[0]]
            if hit.chunk.id not in holding:
                added += found[0] >= len(top)
                holding[hit.chunk.id] = hit
        ctx.hits = [*holding.values(), *(h for h in ctx.hits if h.chunk.id not in holding)]
        ctx.top_k = max(ctx.top_k, len(holding))
        return {"added": added, "operand_chunks": list(holding), "not_found": not_found}

    def document_chunks(self, hits: list[Hit]) -> list[Chunk]:
        """The chunks of the ``documents`` best-ranked documents, in document order."""
        store = self.resources.store
        sources = list(dict.fromkeys(h.chunk.doc_source for h in hits))[: self.config.documents]
        return [c for s in sources for c in sorted(store.chunks(sorted(store.matching_ids(
            {"source": glob_escape(s)}))), key=lambda c: c.start)]
