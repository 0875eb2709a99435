"""Short answers read from selected sentences by the answer pack's rules, no LLM: the value the question asks for
as written there, a yes/no verdict from the sentences' cosine, and a question about a document as a whole
answered from the document's opening."""

from __future__ import annotations

from itertools import accumulate
from typing import TYPE_CHECKING

from ragtune.generation.citations import insert_marker
from ragtune.generation.strategies.selection import Sentence, quote

if TYPE_CHECKING:
    from ragtune.documents.models import Chunk
    from ragtune.packs import AnswerPack


def document_answer(question: str, form: str | None, chunks: list[Chunk], pack: AnswerPack) -> str:
    """For a question about the document itself (``pack.about_document``), the value its opening (the passages
    within its first ``head_chars`` characters) states, cited to the passage it is in: "April 8, 2020 [1]." (''
    when no passage is a document's opening or the pack reads no such value from it)."""
    if form is None or not pack.about_document(question):
        return ""
    openings: dict[str, list[tuple[int, Chunk]]] = {}
    for n, chunk in enumerate(chunks, start=1):
        if chunk.start < pack.config.head_chars:
            openings.setdefault(chunk.doc_source, []).append((n, chunk))
    for parts in openings.values():
        parts.sort(key=lambda p: p[1].start)
        head = "".join(c.text + "\n" for _, c in parts)
        if found := pack.document_answer(question, form, head):
            offset, value = found
            ends = list(accumulate(len(c.text) + 1 for _, c in parts))
            n = parts[next(i for i, end in enumerate(ends) if offset < end)][0]
            return insert_marker(value.rstrip("."), n) + "."
    return ""


def read_rules(question: str, form: str | None, selected: list[Sentence], pack: AnswerPack) -> str:
    """The value ``form`` asks for (``pack.read``), from the best-scoring sentence that has one, cited to that
    sentence's passage ("25 days [1]"; '' when none has)."""
    if form is None:
        return ""
    for sentence in sorted(selected, key=lambda s: -s.score):
        if values := pack.read(question, form, sentence.text):
            return insert_marker(values[0], sentence.n)
    return ""


def verdict(selected: list[Sentence], threshold: float | None) -> str:
    """"Yes" when a selected sentence's cosine to the question is at least ``threshold``, else "No" ('' without a
    threshold). The cosine, not the scorer's score: the pack's ``yes_threshold`` is calibrated on it, and a
    cross-encoder's scores have another scale."""
    if threshold is None or not selected:
        return ""
    return "Yes" if max(s.similarity for s in selected) >= threshold else "No"


def short_answer(question: str, form: str | None, selected: list[Sentence], pack: AnswerPack) -> str:
    """The rules' short answer: a yes/no verdict by cosine (``pack.yes_no``), or the value ``form`` asks for."""
    if pack.yes_no(question):
        return verdict(selected, pack.config.yes_threshold)
    return read_rules(question, form, selected, pack)


def with_quote(short: str, selected: list[Sentence]) -> str:
    """The short answer followed by the quoted, cited sentences (after a "No", as the closest passages found,
    so a reader can check the verdict)."""
    quoted = quote(selected)
    if short == "No":
        return f"No; the closest passages: {quoted}" if quoted else "No."
    return f"{short.rstrip('.')}. {quoted}" if short else quoted
