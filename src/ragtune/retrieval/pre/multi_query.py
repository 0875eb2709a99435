"""Multi-query expansion: several phrasings of the question, each searched, fused by RRF."""

from __future__ import annotations

from typing import Any

from ragtune.parsing import parse_lines
from ragtune.retrieval.pipeline import Component, ComponentConfig, QueryContext, components

PROMPT = ("Rephrase the question {n} ways with different words, one per line.\n\n"
          "Question: When does the warranty expire?\nRephrased:\nHow long is the warranty period?\n"
          "What is the duration of the warranty coverage?\nUntil what date is the product under warranty?\n\n"
          "Question: {question}\nRephrased:\n")


class MultiQueryConfig(ComponentConfig):
    n: int = 3
    max_tokens: int = 128


@components.register("multi_query")
class MultiQuery(Component):
    kind = "pre"
    Config = MultiQueryConfig

    def run(self, ctx: QueryContext) -> dict[str, Any]:
        text = self.chat(PROMPT.format(n=self.config.n, question=ctx.question), max_tokens=self.config.max_tokens,
                         stop=["\n\n"])
        extra = [q for q in parse_lines(text, self.config.n) if q.lower() != ctx.question.lower()]
        if not extra:
            ctx.warn("multi_query: no usable queries from the LLM; searching with the question only")
        ctx.queries = [ctx.question, *extra]
        return {"queries": ctx.queries}
