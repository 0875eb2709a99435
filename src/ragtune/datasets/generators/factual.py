"""Factual questions: one fact stated in the chunk, asked about and answered in the chunk's words."""

from __future__ import annotations

from ragtune.datasets.generators.base import Draft, LLMGenerator, generators
from ragtune.documents.models import Chunk


@generators.register("factual")
class FactualGenerator(LLMGenerator):
    system = ("You write one quiz question about a text and answer it with words from the text. "
              "Reply in exactly two lines:\nQuestion: ...\nAnswer: ...")
    shots = [
        ("Document: Services Agreement\nText: The initial term of this Agreement is five (5) years, starting on "
         "the Effective Date.",
         "Question: How long is the initial term of the Services Agreement?\nAnswer: Five (5) years, starting on "
         "the Effective Date."),
        ("Document: Supply Agreement\nText: Customer shall pay Provider a monthly fee of twelve thousand dollars "
         "($12,000).",
         "Question: What monthly fee does the Customer pay the Provider under the Supply Agreement?\n"
         "Answer: Twelve thousand dollars ($12,000)."),
    ]

    def draft(self, chunk: Chunk) -> Draft:
        focus = self.focus(chunk)
        question, answer = self.ask_qa(f"Document: {self.ctx.pool.name(chunk)}\nText: {focus}")
        return self.make(question, answer, [chunk], self.fallback(focus))
