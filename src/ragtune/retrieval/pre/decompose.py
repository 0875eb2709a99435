"""Query decomposition: a complex question becomes sub-questions, each answered, then synthesised."""

from __future__ import annotations

from typing import Any

from ragtune.generation.parsing import parse_lines
from ragtune.retrieval.pipeline import Component, ComponentConfig, QueryContext, components

PROMPT = ("Break the question into {n} or fewer simple sub-questions that together answer it. Each "
          "sub-question must make sense on its own. One per line, nothing else.\n\n"
          "Question: {question}\nSub-questions:")


class DecomposeConfig(ComponentConfig):
    n: int = 3
    max_tokens: int = 128


@components.register("decompose")
class Decompose(Component):
    """Fills ``sub_questions``; the answer step answers each with the rest of the pipeline, then writes
    the final answer from the sub-answers."""

    kind = "pre"
    Config = DecomposeConfig

    def run(self, ctx: QueryContext) -> dict[str, Any]:
        text = self.chat(PROMPT.format(n=self.config.n, question=ctx.question), max_tokens=self.config.max_tokens)
        subs = [q for q in parse_lines(text, self.config.n) if q.lower() != ctx.question.lower()]
        if not subs:
            ctx.warn("decompose: no sub-questions from the LLM; answering the question directly")
        ctx.sub_questions = subs
        return {"sub_questions": subs}
