"""Query decomposition: a complex question becomes sub-questions, each answered, then synthesised."""

from __future__ import annotations

import re
from typing import Any, Literal

from ragtune.parsing import parse_lines
from ragtune.retrieval.pipeline import Component, ComponentConfig, QueryContext, components
from ragtune.text import content_words

PROMPT = ("Split the question into simple sub-questions, one per line.\n\n"
          "Question: Who supplies the widgets and when does the warranty expire?\n"
          "Sub-questions:\nWho supplies the widgets?\nWhen does the warranty expire?\n\n"
          "Question: {question}\nSub-questions:\n")
_SPLIT = re.compile(r"\?\s+|;\s+|,?\s+and\s+(?=(?:what|which|who|whom|when|where|why|how|is|are|does|do|can|"
                    r"did|was|were)\b)", re.IGNORECASE)


def split_question(question: str) -> list[str]:
    """Rule-based decomposition: split at question marks, semicolons and "and" before a question word."""
    parts = [p.strip(" ,.?") for p in _SPLIT.split(question)]
    return [p[0].upper() + p[1:] + "?" for p in parts if len(p.split()) >= 3]


def is_sub_question(text: str, question: str) -> bool:
    """A real question, not the question itself, about something the question names (shares a content word)."""
    return (text.endswith("?") and 3 <= len(text.split()) <= 40 and text.lower() != question.lower()
            and bool(content_words(text) & content_words(question)))


class DecomposeConfig(ComponentConfig):
    n: int = 3
    max_tokens: int = 96
    method: Literal["auto", "llm", "rules"] = "auto"


@components.register("decompose")
class Decompose(Component):
    """Fills ``sub_questions``; the answer step answers each with the rest of the pipeline, then writes
    the final answer from the sub-answers."""

    kind = "pre"
    Config = DecomposeConfig

    def run(self, ctx: QueryContext) -> dict[str, Any]:
        """``auto``: the LLM's sub-questions when it writes at least two about the question, else the rules."""
        subs, by = [], "rules"
        if self.config.method != "rules":
            text = self.chat(PROMPT.format(question=ctx.question), max_tokens=self.config.max_tokens, stop=["\n\n"])
            subs = [q for q in parse_lines(text, self.config.n) if is_sub_question(q, ctx.question)]
            by = "llm"
            if len(subs) < 2 and self.config.method == "auto":
                ctx.warn("decompose: the LLM wrote fewer than two sub-questions about the question; "
                         "splitting it by rules")
                subs, by = [], "rules"
        if by == "rules":
            subs = split_question(ctx.question)[: self.config.n]
        if len(subs) < 2:
            ctx.warn("decompose: the question has no parts to answer separately; answering it directly")
            subs = []
        ctx.sub_questions = subs
        return {"sub_questions": subs, "by": by}
