"""``extract+generate``: select the supporting sentences, then let the LLM read only them and answer in the
form the question asks for (the answer pack's ``form``; the generic pack names none, so its questions get the
quote alone). The short prompt is fast and within what a small model can use; the sentences stay attached as the
citation. A reply not in the asked-for form, or with words found in none of the sentences, is replaced by what
``extract``'s rules read."""

from __future__ import annotations

from ragtune.generation.answer_forms import parse_yes_no
from ragtune.generation.citations import insert_marker
from ragtune.generation.strategies.base import AnswerStrategy, strategies
from ragtune.generation.strategies.reader import document_answer, short_answer, with_quote
from ragtune.generation.strategies.selection import Sentence
from ragtune.packs import AnswerPack
from ragtune.text import content_words
from ragtune.values import parse_dates, parse_durations

SYSTEM = ("You answer a question about a document from the numbered sentences quoted from it. Reply with the "
          "answer only, as briefly as possible, using the sentences' own words.")
YES_NO = "Reply Yes or No."
CHECKED = {"date": parse_dates, "duration": parse_durations}
"""Forms named like a kind of value of ``ragtune.values`` whose replies must parse as one."""


def short_prompt(question: str, selected: list[Sentence], form: str | None, yes_no: bool,
                 pack: AnswerPack) -> list[dict[str, str]]:
    """The sentences and the question, with the pack's wording of the system prompt and of the form's
    instruction (``extract_generate.system``, ``extract_generate.<form>``)."""
    lines = "\n".join(f"[{i}] {s.text}" for i, s in enumerate(selected, start=1))
    instruction = YES_NO if yes_no else pack.prompt(f"extract_generate.{form}", f"Reply with the {form} only.")
    return [{"role": "system", "content": pack.prompt("extract_generate.system", SYSTEM)},
            {"role": "user", "content": f"Sentences:\n{lines}\n\nQuestion: {question}\n{instruction}\nAnswer:"}]


def in_form(text: str, form: str | None, yes_no: bool, selected: list[Sentence]) -> bool:
    """Whether a short answer has the form asked for (a yes or a no; a date parses as a date, and so on) and,
    beyond yes/no, uses only words of the sentences."""
    if yes_no:
        return parse_yes_no(text) is not None
    if (parse := CHECKED.get(form or "")) and not parse(text):
        return False
    source = set().union(*(content_words(s.text) for s in selected))
    return 0 < len(text) <= 200 and content_words(text) <= source


@strategies.register("extract+generate")
class ExtractGenerate(AnswerStrategy):
    """Questions of no form get the quote alone (no LLM call), questions about the document itself the value its
    opening states (``extract``'s rules, no LLM call); the others a short answer before the quote."""

    cites_itself = True

    def respond(self, question, chunks, traces, stage="generate", notes=None, on_token=None, focus=None) -> str:
        form = self.pack.form(question)
        if text := document_answer(question, form, chunks, self.pack):
            if on_token:
                on_token(text)
            return text
        selected = self.selector.select(focus or question, chunks, self.states(form))
        yes_no = self.pack.yes_no(question)
        short = self.trained_verdict(question, chunks) or ""
        if selected and not short and form is not None and not (
                yes_no and self.pack.config.yes_threshold is not None):
            reply = self.call(short_prompt(question, selected, form, yes_no, self.pack), traces, stage,
                              max_tokens=self.config.max_tokens).splitlines()
            short = reply[0].strip().strip(".") if reply else ""
            if not in_form(short, form, yes_no, selected):
                short = ""
            elif yes_no:
                short = "Yes" if parse_yes_no(short) else "No"
            else:
                short = insert_marker(short, max(selected, key=lambda s: s.score).n)
        text = with_quote(short or short_answer(question, form, selected, self.pack), selected)
        if on_token and text:
            on_token(text)
        return text
