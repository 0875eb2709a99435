"""Reasoning questions: why, under what condition, or what happens if; answered by the chunk's rule."""

from __future__ import annotations

import re

from ragtune.datasets.generators.base import Draft, Dropped, LLMGenerator, generators, sentences_of
from ragtune.documents.models import Chunk

_RULE = re.compile(r"\b(?:if|unless|provided that|in the event|because|so that|in order to|subject to|until|"
                   r"as a result|due to|except)\b", re.IGNORECASE)


@generators.register("reasoning")
class ReasoningGenerator(LLMGenerator):
    """Shows the model a sentence stating a condition, cause or exception (and the next one)."""

    system = ("You write one question about a text that asks why, under what condition, or what happens if, "
              "and answer it with the reason or rule the text gives. Reply in exactly two lines:\n"
              "Question: ...\nAnswer: ...")
    shots = [
        ("Document: Supply Agreement\nText: Either party may terminate this Agreement for material breach if the "
         "breach is not cured within sixty (60) days after written notice.",
         "Question: Under what condition may a party terminate the Supply Agreement for material breach?\n"
         "Answer: If the breach is not cured within sixty (60) days after written notice."),
        ("Document: Services Agreement\nText: Fees are due on the first day of each month. Late payments bear "
         "interest at one percent (1%) per month.",
         "Question: What happens if the Customer pays a fee late under the Services Agreement?\n"
         "Answer: Late payments bear interest at one percent (1%) per month."),
    ]

    def focus(self, chunk: Chunk) -> str:
        sents = sentences_of(chunk)
        rules = [i for i, s in enumerate(sents) if _RULE.search(s)]
        if not rules:
            raise Dropped("no_rule_sentence")
        i = self.ctx.rng.choice(rules)
        return " ".join(sents[i : i + self.config.focus_sentences])

    def draft(self, chunk: Chunk) -> Draft:
        focus = self.focus(chunk)
        question, answer = self.ask_qa(f"Document: {self.ctx.pool.name(chunk)}\nText: {focus}")
        return self.make(question, answer, [chunk], self.fallback(focus))
