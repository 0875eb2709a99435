"""``extract+generate``: select the supporting sentences, then let the LLM read only them and answer in the
form the question asks for. The short prompt is fast and within what a small model can use; the sentences
stay attached as the citation. A reply not in the asked-for form, or with words found in none of the
sentences, is replaced by what ``extract``'s rules read."""

from __future__ import annotations

from ragtune.generation.answer_forms import AnswerForm, detect_form, parse_dates, parse_durations, parse_yes_no
from ragtune.generation.strategies.base import AnswerStrategy, strategies
from ragtune.generation.strategies.reader import document_answer, short_answer, with_quote
from ragtune.generation.strategies.selection import Sentence
from ragtune.text import content_words, insert_marker

SYSTEM = ("You answer a question about a contract from the numbered sentences quoted from it. Reply with the "
          "answer only, as briefly as possible, using the sentences' own words.")
FORM_INSTRUCTIONS: dict[AnswerForm, str] = {
    AnswerForm.yes_no: "Reply Yes or No.",
    AnswerForm.date: "Reply with the date only.",
    AnswerForm.parties: "Reply with the names of the parties only.",
    AnswerForm.duration: "Reply with the length of time only, for example: 3 years.",
    AnswerForm.amount: "Reply with the amount only.",
    AnswerForm.place: "Reply with the name of the state or country only.",
    AnswerForm.title: "Reply with the name of the document only.",
}


def short_prompt(question: str, selected: list[Sentence], form: AnswerForm) -> list[dict[str, str]]:
    lines = "\n".join(f"[{i}] {s.text}" for i, s in enumerate(selected, start=1))
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"Sentences:\n{lines}\n\nQuestion: {question}\n{FORM_INSTRUCTIONS[form]}"
                                        f"\nAnswer:"}]


def in_form(text: str, form: AnswerForm, selected: list[Sentence]) -> bool:
    """Whether a short answer has the form asked for (a date parses as a date, and so on) and, beyond yes/no,
    uses only words of the sentences."""
    if form is AnswerForm.yes_no:
        return parse_yes_no(text) is not None
    if form is AnswerForm.date and not parse_dates(text):
        return False
    if form is AnswerForm.duration and not parse_durations(text):
        return False
    source = set().union(*(content_words(s.text) for s in selected))
    return 0 < len(text) <= 200 and content_words(text) <= source


@strategies.register("extract+generate")
class ExtractGenerate(AnswerStrategy):
    """Clause questions get the quote alone (no LLM call), questions about the document itself the value its
    opening states (``extract``'s rules, no LLM call); the others a short answer before the quote."""

    cites_itself = True

    def respond(self, question, chunks, traces, stage="generate", notes=None, on_token=None, focus=None) -> str:
        form = detect_form(question)
        if text := document_answer(question, form, chunks):
            if on_token:
                on_token(text)
            return text
        selected = self.selector.select(focus or question, chunks, form)
        short = (form is AnswerForm.yes_no and self.trained_verdict(question, chunks)) or ""
        if selected and not short and form is not AnswerForm.clause and not (
                form is AnswerForm.yes_no and self.config.yes_threshold is not None):
            reply = self.call(short_prompt(question, selected, form), traces, stage,
                              max_tokens=self.config.max_tokens).splitlines()
            short = reply[0].strip().strip(".") if reply else ""
            if not in_form(short, form, selected):
                short = ""
            elif form is AnswerForm.yes_no:
                short = "Yes" if parse_yes_no(short) else "No"
            else:
                short = insert_marker(short, max(selected, key=lambda s: s.score).n)
        text = with_quote(short or short_answer(form, selected, self.config.yes_threshold), selected)
        if on_token and text:
            on_token(text)
        return text
