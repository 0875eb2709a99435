"""Multi-query expansion: several phrasings of the question, each searched, fused by RRF."""

from __future__ import annotations

from typing import Any

from ragtune.generation.parsing import parse_lines
from ragtune.retrieval.pipeline import Component, ComponentConfig, QueryContext, components

PROMPT = ("Write {n} different search queries that would find the answer to the question in a document "
          "collection. Use different words and synonyms. One query per line, nothing else.\n\n"
          "Question: {question}\nQueries:")


class MultiQueryConfig(ComponentConfig):
    n: int = 3
    max_tokens: int = 128


@components.register("multi_query")
class MultiQuery(Component):
    kind = "pre"
    Config = MultiQueryConfig

    def run(self, ctx: QueryContext) -> dict[str, Any]:
        text = self.chat(PROMPT.format(n=self.config.n, question=ctx.question), max_tokens=self.config.max_tokens)
        extra = [q for q in parse_lines(text, self.config.n) if q.lower() != ctx.question.lower()]
        if not extra:
            ctx.warn("multi_query: no usable queries from the LLM; searching with the question only")
        ctx.queries = [ctx.question, *extra]
        return {"queries": ctx.queries}
