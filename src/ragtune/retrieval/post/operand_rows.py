"""Operand rows: a question that asks for a calculation (the answer pack's ``calculation``) needs the table row
of each operand, and similarity search often ranks a statement's row below the prose that discusses it. For each
operand that the retrieved passages do not hold (the pack's ``operand`` reads none), this stage adds the first
chunk of the top document that holds it; the chunks holding operands go first, and the pipeline keeps at least as
many hits as there are such chunks. Other questions are left alone. No LLM."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ragtune.index.store import glob_escape
from ragtune.packs.base import Operand
from ragtune.retrieval.hybrid import Hit
from ragtune.retrieval.pipeline import Component, ComponentConfig, QueryContext, components


class OperandRowsConfig(ComponentConfig):
    documents: int = Field(1, ge=1, description="The top documents (by their best hit) searched for the operands "
                                                "the retrieved passages lack.")


@components.register("operand_rows")
class OperandRows(Component):
    """Adds, for each operand missing from the top ``top_k`` hits, the first chunk of the ``documents`` best-ranked
    documents that holds it."""

    kind = "post"
    Config = OperandRowsConfig

    def run(self, ctx: QueryContext) -> dict[str, Any]:
        pack = self.resources.pack
        calc = pack.calculation(ctx.question)
        if calc is None or not ctx.hits:
            return {"added": 0, "reason": "no calculation asked"}
        top = ctx.hits[: ctx.top_k]
        holding: dict[str, Hit] = {}
        missing = []
        for operand in calc.operands:
            hit = next((h for h in top if pack.operand(operand, h.chunk.text)), None)
            if hit is None:
                missing.append(operand)
            else:
                holding.setdefault(hit.chunk.id, hit)
        added, not_found = self.find(missing, ctx.hits, holding)
        ctx.hits = [*holding.values(), *(h for h in ctx.hits if h.chunk.id not in holding)]
        ctx.top_k = max(ctx.top_k, len(holding))
        return {"added": added, "operand_chunks": list(holding), "not_found": not_found}

    def find(self, missing: list[Operand], hits: list[Hit], holding: dict[str, Hit]) -> tuple[int, list[str]]:
        """Add to ``holding`` the first chunk of the top documents holding each ``missing`` operand; (chunks added,
        labels of the operands no chunk holds)."""
        if not missing:
            return 0, []
        store, pack = self.resources.store, self.resources.pack
        sources = list(dict.fromkeys(h.chunk.doc_source for h in hits))[: self.config.documents]
        chunks = [c for s in sources for c in sorted(store.chunks(sorted(store.matching_ids(
            {"source": glob_escape(s)}))), key=lambda c: c.start)]
        added, not_found = 0, []
        for operand in missing:
            chunk = next((c for c in chunks if pack.operand(operand, c.text)), None)
            if chunk is None:
                not_found.append(operand.label)
            elif chunk.id not in holding:
                holding[chunk.id] = Hit(chunk, hits[0].score)
                added += 1
        return added, not_found
