"""``extract``: the sentences of the retrieved passages that best answer the question, verbatim and cited,
after the short answer the question asks for when rules can read it from them (a date, the parties, a place,
a duration, an amount; yes/no from the trained verdict model, ``answer.verdicts``, when it knows the question,
else from the scorer with ``answer.yes_threshold``). A question about the document itself
(its name, parties or date) gets the value its opening states, cited. No LLM call: faithful by
construction and fast."""

from __future__ import annotations

from ragtune.generation.answer_forms import AnswerForm, detect_form
from ragtune.generation.strategies.base import AnswerStrategy, strategies
from ragtune.generation.strategies.reader import document_answer, short_answer, with_quote


@strategies.register("extract")
class Extract(AnswerStrategy):
    """``answer.sentences`` sentences chosen by the sentence scorer, each followed by its passage's marker."""

    uses_llm = False
    cites_itself = True

    def respond(self, question, chunks, traces, stage="generate", notes=None, on_token=None, focus=None) -> str:
        form = detect_form(question)
        text = document_answer(question, form, chunks)
        if not text:
            selected = self.selector.select(focus or question, chunks, form)
            short = form is AnswerForm.yes_no and self.trained_verdict(question, chunks)
            text = with_quote(short or short_answer(form, selected, self.config.yes_threshold), selected)
        if on_token and text:
            on_token(text)
        return text
