"""Questions the documents do not answer: plausible for the chunk's topic, answered with the refusal."""

from __future__ import annotations

from ragtune.datasets.generators.base import Draft, Dropped, LLMGenerator, generators
from ragtune.datasets.parsing import ParseError, parse_question
from ragtune.documents.models import Chunk
from ragtune.generation.prompts import NO_ANSWER


@generators.register("unanswerable")
class UnanswerableGenerator(LLMGenerator):
    """The pair links the chunk that inspired the question; the rater rejects it when some chunk of the
    corpus seems to answer it after all."""

    system = ("You write one question that a reader of the text would ask but that the text does not answer. "
              "Reply with one line:\nQuestion: ...")
    shots = [
        ("Document: Supply Agreement\nText: Customer shall pay Provider a monthly fee of twelve thousand dollars "
         "($12,000).",
         "Question: What discount does the Provider give under the Supply Agreement for paying a year in advance?"),
        ("Document: Services Agreement\nText: The initial term of this Agreement is five (5) years.",
         "Question: Which insurance policy must the Provider hold under the Services Agreement?"),
    ]

    def draft(self, chunk: Chunk) -> Draft:
        user = f"Document: {self.ctx.pool.name(chunk)}\nText: {self.focus(chunk)}"
        for _ in range(self.config.max_retries + 1):
            try:
                return self.make(parse_question(self.ask(user)), NO_ANSWER, [chunk])
            except ParseError:
                continue
        raise Dropped("unparsed_no_question")
