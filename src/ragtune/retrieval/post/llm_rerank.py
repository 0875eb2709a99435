"""LLM reranking: the local LLM grades each candidate's relevance (pointwise, 0-10)."""

from __future__ import annotations

from typing import Any

from ragtune.parsing import parse_score
from ragtune.retrieval.pipeline import Component, ComponentConfig, QueryContext, components

PROMPT = ("Rate from 0 to 10 how well the passage answers the question. Reply with the number only.\n\n"
          "Passage: The warranty lasts twenty-four months from delivery.\nQuestion: How long is the warranty?\n"
          "Score: 10\n\nPassage: Invoices are payable within thirty days.\nQuestion: How long is the warranty?\n"
          "Score: 0\n\nPassage: {passage}\nQuestion: {question}\nScore:")


class LLMRerankConfig(ComponentConfig):
    candidates: int = 10
    max_passage_chars: int = 1200


@components.register("llm_rerank")
class LLMRerank(Component):
    """Sorts by the LLM's grade, ties (and unparseable grades, scored -1) keep the first-stage order."""

    kind = "post"
    narrows = True
    Config = LLMRerankConfig

    def run(self, ctx: QueryContext) -> dict[str, Any]:
        pool, rest = ctx.hits[: self.config.candidates], ctx.hits[self.config.candidates:]
        grades, failed = [], 0
        for hit in pool:
            text = self.chat(PROMPT.format(passage=hit.chunk.text[: self.config.max_passage_chars],
                                           question=ctx.question), max_tokens=3, stop=["\n"])
            grade = parse_score(text)
            failed += grade is None
            grades.append(-1 if grade is None else grade)
        if failed:
            ctx.warn(f"llm_rerank: {failed} of {len(pool)} grades unparseable; kept their first-stage order")
        order = sorted(range(len(pool)), key=lambda i: (-grades[i], i))
        ctx.hits = [pool[i] for i in order] + rest
        for i in order:
            pool[i].score = float(grades[i])
        return {"before": [h.chunk.id for h in pool], "after": [pool[i].chunk.id for i in order],
                "grades": [grades[i] for i in order]}
