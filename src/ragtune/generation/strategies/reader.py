"""Short answers read from selected sentences by rules, no LLM: the date, the parties, the governing law's
place, the duration or the amount as written there, and a yes/no verdict from the sentence scorer."""

from __future__ import annotations

from ragtune.documents.models import Chunk
from ragtune.generation.answer_forms import AnswerForm
from ragtune.generation.strategies.selection import Sentence, quote
from ragtune.index.graph.config import GraphConfig
from ragtune.index.graph.extractors.rules import (
    RuleExtractor,
    find_dates,
    find_durations,
    find_governing_law,
    find_money,
)


def parties(text: str) -> list[str]:
    """Names introduced as parties (``between Acme Inc. ("Seller") and ...``), in order of appearance."""
    found = RuleExtractor(GraphConfig()).extract(Chunk("answer", "answer", text, 0, len(text), None, 0))
    return list(dict.fromkeys(r.source for r in found.relations if r.type == "party_to"))


def read_rules(form: AnswerForm, selected: list[Sentence]) -> str:
    """The value ``form`` asks for, from the best-scoring sentence that has one ('' when none has)."""
    for sentence in sorted(selected, key=lambda s: -s.score):
        text = sentence.text
        if form is AnswerForm.date:
            values = [written for _, _, written in find_dates(text)]
        elif form is AnswerForm.place:
            values = [place for _, place in find_governing_law(text)]
        elif form is AnswerForm.duration:
            values = [d for _, d in find_durations(text)]
        elif form is AnswerForm.amount:
            values = [m for _, m in find_money(text)]
        elif form is AnswerForm.parties:
            names = parties(text)
            values = [" and ".join(names)] if len(names) >= 2 else []
        else:
            values = []
        if values:
            return values[0]
    return ""


def verdict(selected: list[Sentence], threshold: float | None) -> str:
    """"Yes" when the best sentence scores at least ``threshold``, else "No" ('' without a threshold)."""
    if threshold is None or not selected:
        return ""
    return "Yes" if max(s.score for s in selected) >= threshold else "No"


def short_answer(form: AnswerForm, selected: list[Sentence], yes_threshold: float | None) -> str:
    """The rules' short answer: a yes/no verdict by score, or the value ``form`` asks for."""
    return verdict(selected, yes_threshold) if form is AnswerForm.yes_no else read_rules(form, selected)


def with_quote(short: str, selected: list[Sentence]) -> str:
    """The short answer followed by the quoted, cited sentences (after a "No", as the closest passages found,
    so a reader can check the verdict)."""
    quoted = quote(selected)
    if short == "No":
        return f"No; the closest passages: {quoted}" if quoted else "No."
    return f"{short.rstrip('.')}. {quoted}" if short else quoted
