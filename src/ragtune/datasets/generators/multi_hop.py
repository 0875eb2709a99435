"""Multi-hop questions: one fact from a chunk and one from the most similar other chunk (same or another
document), combined into a question that needs both."""

from __future__ import annotations

from ragtune.datasets.generators.base import Draft, Dropped, LLMGenerator, generators, sentences_of
from ragtune.datasets.text import QA_WORDS
from ragtune.documents.models import Chunk
from ragtune.text import content_words


@generators.register("multi_hop")
class MultiHopGenerator(LLMGenerator):
    system = ("You write one question whose answer needs both texts, and answer it using both texts. "
              "Reply in exactly two lines:\nQuestion: ...\nAnswer: ...")
    shots = [
        ("Text 1 (Supply Agreement): The initial term of the Agreement is three (3) years.\n"
         "Text 2 (Supply Agreement): The Agreement renews automatically for one-year periods unless either party "
         "gives ninety (90) days notice of non-renewal.",
         "Question: How long is the initial term of the Supply Agreement, and how can a party stop it from "
         "renewing?\nAnswer: The initial term is three (3) years, and a party stops renewal by giving ninety (90) "
         "days notice of non-renewal."),
    ]

    def draft(self, chunk: Chunk) -> Draft:
        other = self.ctx.pool.related(chunk)
        if other is None:
            raise Dropped("no_related_chunk")
        first = self.focus(chunk)
        shared = content_words(first, QA_WORDS)
        second = max(sentences_of(other), key=lambda s: len(shared & content_words(s, QA_WORDS)))
        pool = self.ctx.pool
        question, answer = self.ask_qa(f"Text 1 ({pool.name(chunk)}): {first}\nText 2 ({pool.name(other)}): {second}")
        return self.make(question, answer, [chunk, other], self.fallback(f"{first} {second}"))
