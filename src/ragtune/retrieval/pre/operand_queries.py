"""Operand queries: a question that asks for a calculation (the answer pack's ``calculation``: a ratio of two line
items, an average over two year-ends) needs passages for each operand, which are often in different tables of a
document (a balance sheet and a cash-flow statement). This stage searches for each operand as well as for the
question, fused by RRF; other questions are left alone. No LLM."""

from __future__ import annotations

from typing import Any

from ragtune.retrieval.pipeline import Component, ComponentConfig, QueryContext, components


class OperandQueriesConfig(ComponentConfig):
    pass


@components.register("operand_queries")
class OperandQueries(Component):
    """Adds one query per distinct operand of the pack's calculation (``Operand.query``) to ``ctx.queries``."""

    kind = "pre"
    Config = OperandQueriesConfig

    def run(self, ctx: QueryContext) -> dict[str, Any]:
        calc = self.resources.pack.calculation(ctx.question)
        if calc is None:
            return {"queries": 0, "reason": "no calculation asked"}
        extra = list(dict.fromkeys(o.query for o in calc.operands))
        ctx.queries = [*ctx.queries, *(q for q in extra if q not in ctx.queries)]
        return {"queries": len(extra), "calculation": calc.expression}
