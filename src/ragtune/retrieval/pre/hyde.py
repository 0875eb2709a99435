"""HyDE (Gao et al., 2022): embed a hypothetical answer passage instead of the question."""

from __future__ import annotations

from typing import Any

from ragtune.retrieval.pipeline import Component, ComponentConfig, QueryContext, components

PROMPT = ("Write a short passage, in the style of the documents being searched, that answers the question. "
          "Invent plausible details if needed.\n\nQuestion: {question}\nPassage:")


class HydeConfig(ComponentConfig):
    n: int = 1
    max_tokens: int = 96
    include_question: bool = True


@components.register("hyde")
class Hyde(Component):
    """Dense search uses the mean embedding of the hypothetical passages (and the question); BM25 still
    searches with the question."""

    kind = "pre"
    Config = HydeConfig

    def run(self, ctx: QueryContext) -> dict[str, Any]:
        passages = []
        for i in range(self.config.n):
            text = self.chat(PROMPT.format(question=ctx.question), max_tokens=self.config.max_tokens,
                             temperature=0.0 if i == 0 else 0.7, seed=i)
            if len(text) >= 20:
                passages.append(text)
        if not passages:
            ctx.warn("hyde: the LLM wrote no usable passage; dense search uses the question")
            return {"passages": []}
        ctx.dense_texts = ([ctx.question] if self.config.include_question else []) + passages
        return {"passages": passages}
