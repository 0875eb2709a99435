"""Query rewriting: the LLM turns the question into a clear, keyword-rich search query."""

from __future__ import annotations

from typing import Any

from ragtune.retrieval.pipeline import Component, ComponentConfig, QueryContext, components

PROMPT = ("Rewrite the question as a short keyword search query. Keep every name, number and key term.\n\n"
          "Question: hey, can u tell me how many days off staff get each year??\n"
          "Query: employee paid vacation days per year\n\n"
          "Question: {question}\nQuery:")


class RewriteConfig(ComponentConfig):
    keep_original: bool = True
    max_tokens: int = 48


@components.register("rewrite")
class Rewrite(Component):
    """Searches with the rewritten query (and the original, fused, when ``keep_original``)."""

    kind = "pre"
    Config = RewriteConfig

    def run(self, ctx: QueryContext) -> dict[str, Any]:
        text = self.chat(PROMPT.format(question=ctx.question), max_tokens=self.config.max_tokens, stop=["\n"])
        query = text.splitlines()[0].strip().strip('"') if text else ""
        if len(query) < 3:
            ctx.warn("rewrite: empty output from the LLM; searching with the original question")
            return {"rewritten": None}
        ctx.queries = [ctx.question, query] if self.config.keep_original else [query]
        return {"rewritten": query}
