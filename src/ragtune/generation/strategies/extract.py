"""``extract``: the sentences of the retrieved passages that best answer the question, verbatim and cited,
after the short answer the question asks for when the answer pack's rules can read it from them (``answer.pack``:
the generic pack has none; docs/packs.md lists the contracts pack's). A yes/no verdict
comes from the trained verdict model (``answer.verdicts``) when it knows the question, else, for the questions the
pack gives a verdict, from the sentences' cosine and the pack's ``yes_threshold``. A question about the document
itself gets the value its opening states, cited. No LLM call: faithful by construction and fast."""

from __future__ import annotations

from ragtune.generation.strategies.base import AnswerStrategy, strategies
from ragtune.generation.strategies.reader import document_answer, short_answer, with_quote


@strategies.register("extract")
class Extract(AnswerStrategy):
    """``answer.sentences`` sentences chosen by the sentence scorer, each followed by its passage's marker."""

    uses_llm = False
    cites_itself = True

    def respond(self, question, chunks, traces, stage="generate", notes=None, on_token=None, focus=None) -> str:
        form = self.pack.form(question)
        text = document_answer(question, form, chunks, self.pack)
        if not text:
            selected = self.selector.select(focus or question, chunks, self.states(form))
            short = self.trained_verdict(question, chunks)
            text = with_quote(short or short_answer(question, form, selected, self.pack), selected)
        if on_token and text:
            on_token(text)
        return text
