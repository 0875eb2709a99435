"""Short answers read from selected sentences by rules, no LLM: the date, the parties, the governing law's
place, the duration or the amount as written there, and a yes/no verdict from the sentence scorer."""

from __future__ import annotations

import re
from itertools import accumulate

from ragtune.documents.models import Chunk
from ragtune.generation.answer_forms import AnswerForm, date_spans
from ragtune.generation.citations import insert_marker
from ragtune.generation.strategies.selection import Sentence, quote
from ragtune.index.graph.config import GraphConfig
from ragtune.index.graph.extractors.rules import (
    RuleExtractor,
    find_dates,
    find_durations,
    find_governing_law,
    find_money,
)
from ragtune.retrieval.post.document_head import HEAD_CHARS, about_document

_NOUN = r"(?:agreement|contract|lease|licen[cs]e|amendment|addendum|plan|indenture|deed|memorandum|terms)"
_TITLE_LINE = re.compile(rf"^(?!(?:this|the|exhibit|ex)\b)((?:[\w&'.-]+\s+){{0,8}}{_NOUN})"
                         r"(?:\s+[-\u2013]\s+[\w .&-]{1,30})?$", re.I)
_CAPS_TITLE = re.compile(r"\b((?:[A-Z][A-Z&-]+[ \t]+){1,6}(?:AGREEMENT|CONTRACT|LEASE|LICENSE|AMENDMENT|PLAN))\b")
_THIS_TITLE = re.compile(r"\b[Tt]his\s+((?:[A-Z][\w&-]*\s+){1,6}"
                         r"(?:Agreement|Contract|Lease|License|Licence|Amendment|Plan))\b")


def parties(text: str) -> list[str]:
    """Names introduced as parties (``between Acme Inc. ("Seller") and ...``), in order of appearance."""
    found = RuleExtractor(GraphConfig()).extract(Chunk("answer", "answer", text, 0, len(text), None, 0))
    return list(dict.fromkeys(r.source for r in found.relations if r.type == "party_to"))


def find_title(text: str) -> str:
    """A document's name from its opening: a short line naming it ("SERVICING AGREEMENT", "Yield Maintenance
    Agreement"), else a capitalised run ending in AGREEMENT and the like, else "This <Name> Agreement"."""
    head = text[:HEAD_CHARS]
    for line in head.splitlines()[:30]:
        line = " ".join(line.split())
        if len(line) <= 100 and (m := _TITLE_LINE.match(line)):
            return m.group(1)
    for pattern in (_CAPS_TITLE, _THIS_TITLE):
        if m := pattern.search(head):
            return " ".join(m.group(1).split())
    return ""


def read_head(form: AnswerForm, head: str) -> tuple[int, str] | None:
    """(offset, value): the document's name, parties or date as its opening ``head`` states them."""
    if form is AnswerForm.title:
        value = find_title(head)
        return (head.find(value.split()[0]), value) if value else None
    if form is AnswerForm.parties:
        names = parties(head)
        return (head.find(names[0]), " and ".join(names)) if names else None
    if form is AnswerForm.date and (dates := date_spans(head)):
        start, end, _ = dates[0]
        return start, " ".join(head[start:end].split())
    return None


def document_answer(question: str, form: AnswerForm, chunks: list[Chunk]) -> str:
    """For a question about the document itself (``about_document``: its name, parties or date), the value its
    opening (the passages within its first ``HEAD_CHARS`` characters) states, cited to the passage it is in:
    "April 8, 2020 [1]." ('' when no passage is a document's opening or it states no such value)."""
    if form not in (AnswerForm.title, AnswerForm.parties, AnswerForm.date) or not about_document(question):
        return ""
    openings: dict[str, list[tuple[int, Chunk]]] = {}
    for n, chunk in enumerate(chunks, start=1):
        if chunk.start < HEAD_CHARS:
            openings.setdefault(chunk.doc_source, []).append((n, chunk))
    for parts in openings.values():
        parts.sort(key=lambda p: p[1].start)
        head = "".join(c.text + "\n" for _, c in parts)
        if found := read_head(form, head):
            offset, value = found
            ends = list(accumulate(len(c.text) + 1 for _, c in parts))
            n = parts[next(i for i, end in enumerate(ends) if offset < end)][0]
            return insert_marker(value.rstrip("."), n) + "."
    return ""


def read_rules(form: AnswerForm, selected: list[Sentence]) -> str:
    """The value ``form`` asks for, from the best-scoring sentence that has one, cited to that sentence's
    passage ("25 days [1]"; '' when none has)."""
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
            return insert_marker(values[0], sentence.n)
    return ""


def verdict(selected: list[Sentence], threshold: float | None) -> str:
    """"Yes" when a selected sentence's cosine to the question is at least ``threshold``, else "No" ('' without a
    threshold). The cosine, not the scorer's score: ``answer.yes_threshold`` is calibrated on it, and a
    cross-encoder's scores have another scale."""
    if threshold is None or not selected:
        return ""
    return "Yes" if max(s.similarity for s in selected) >= threshold else "No"


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
