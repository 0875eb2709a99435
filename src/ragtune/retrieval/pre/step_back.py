"""Step-back prompting (Zheng et al., 2023): also search for a more general version of the question."""

from __future__ import annotations

from typing import Any

from ragtune.retrieval.pipeline import Component, ComponentConfig, QueryContext, components

PROMPT = ("Write one more general question about the underlying topic or principle behind this question. "
          "Reply with the question only.\n\nQuestion: {question}\nGeneral question:")


class StepBackConfig(ComponentConfig):
    max_tokens: int = 48


@components.register("step_back")
class StepBack(Component):
    kind = "pre"
    Config = StepBackConfig

    def run(self, ctx: QueryContext) -> dict[str, Any]:
        text = self.chat(PROMPT.format(question=ctx.question), max_tokens=self.config.max_tokens)
        general = text.splitlines()[0].strip() if text else ""
        if len(general) < 8:
            ctx.warn("step_back: no usable question from the LLM")
            return {"step_back": None}
        ctx.queries = [*ctx.queries, general]
        return {"step_back": general}
