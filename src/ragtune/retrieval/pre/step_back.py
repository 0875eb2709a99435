"""Step-back prompting (Zheng et al., 2023): also search for a more general version of the question."""

from __future__ import annotations

from typing import Any

from ragtune.retrieval.pipeline import Component, ComponentConfig, QueryContext, components

PROMPT = ("Write a more general question about the topic behind the question.\n\n"
          "Question: Can the buyer end the supply agreement after two years?\n"
          "General question: What are the termination rights in the supply agreement?\n\n"
          "Question: {question}\nGeneral question:")


class StepBackConfig(ComponentConfig):
    max_tokens: int = 48


@components.register("step_back")
class StepBack(Component):
    kind = "pre"
    Config = StepBackConfig

    def run(self, ctx: QueryContext) -> dict[str, Any]:
        text = self.chat(PROMPT.format(question=ctx.question), max_tokens=self.config.max_tokens, stop=["\n"])
        general = text.splitlines()[0].strip() if text else ""
        if not (general.endswith("?") and len(general.split()) >= 3):
            ctx.warn(f"step_back: no usable question from the LLM ({general[:60]!r})")
            return {"step_back": None}
        ctx.queries = [*ctx.queries, general]
        return {"step_back": general}
