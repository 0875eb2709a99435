"""What a contract's opening answers: its name, its parties and the date it was made or takes effect. A question
about the document as a whole (``about_document``) is answered from there, not from similar sentences (they share
few words with "Who are the parties?")."""

from __future__ import annotations

import re

from ragtune.packs.contracts.forms import DATE, PARTIES, TITLE, normal
from ragtune.packs.contracts.rules import parties
from ragtune.text import YES_NO_QUESTION
from ragtune.values import date_spans

_DOC = r"(?:contract|agreement|document|lease|licen[cs]e)"
# "the agreement", "the Master Services Agreement"; not "the notice under the agreement"
_THE_DOC = rf"(?:the|this)(?: (?!(?:the|a|an|of|under|in|to|for|by|with|and|or)\b)[\w&-]+){{0,4}} {_DOC}"
ABOUT_DOCUMENT = re.compile(
    rf"\b(?:name|title) of {_THE_DOC}\b|\bwhat is (?:the|this) {_DOC} called\b"
    rf"|\bwho are the parties\b|\bparties (?:to|of) {_THE_DOC}\b|\bparties who signed\b|\bsignator(?:y|ies)\b"
    rf"|\bwho (?:signed|entered into|are the)\b|\bdate of {_THE_DOC}\b"
    rf"|\b{_DOC} (?:is |was )?(?:dated|signed|executed|entered into|made)\b|\beffective date\b"
    rf"|\b(?:date|when)\b.*\b{_DOC} (?:is|was|becomes?|become|takes?) effective\b"
    rf"|\bwhen (?:is|was|does|did) (?:the|this) {_DOC} (?:dated|signed|made|start|begin|take effect)\b")

_NOUN = r"(?:agreement|contract|lease|licen[cs]e|amendment|addendum|plan|indenture|deed|memorandum|terms)"
_TITLE_LINE = re.compile(rf"^(?!(?:this|the|exhibit|ex)\b)((?:[\w&'.-]+\s+){{0,8}}{_NOUN})"
                         r"(?:\s+[-\u2013]\s+[\w .&-]{1,30})?$", re.I)
_CAPS_TITLE = re.compile(r"\b((?:[A-Z][A-Z&-]+[ \t]+){1,6}(?:AGREEMENT|CONTRACT|LEASE|LICENSE|AMENDMENT|PLAN))\b")
_THIS_TITLE = re.compile(r"\b[Tt]his\s+((?:[A-Z][\w&-]*\s+){1,6}"
                         r"(?:Agreement|Contract|Lease|License|Licence|Amendment|Plan))\b")


def about_document(question: str) -> bool:
    """Whether ``question`` asks for the document's own name, parties or date (its opening states them); a
    yes/no question asks about a clause."""
    q = normal(question)
    return not YES_NO_QUESTION.match(q) and bool(ABOUT_DOCUMENT.search(q))


def find_title(head: str) -> str:
    """A document's name from its opening ``head``: a short line naming it ("SERVICING AGREEMENT", "Yield
    Maintenance Agreement"), else a capitalised run ending in AGREEMENT and the like, else "This <Name> Agreement"."""
    for line in head.splitlines()[:30]:
        line = " ".join(line.split())
        if len(line) <= 100 and (m := _TITLE_LINE.match(line)):
            return m.group(1)
    for pattern in (_CAPS_TITLE, _THIS_TITLE):
        if m := pattern.search(head):
            return " ".join(m.group(1).split())
    return ""


def read_head(form: str | None, head: str, head_chars: int) -> tuple[int, str] | None:
    """(offset, value): the document's name (in its first ``head_chars`` characters), parties or date as its
    opening ``head`` states them."""
    if form == TITLE:
        value = find_title(head[:head_chars])
        return (head.find(value.split()[0]), value) if value else None
    if form == PARTIES:
        names = parties(head)
        return (head.find(names[0]), " and ".join(names)) if names else None
    if form == DATE and (dates := date_spans(head)):
        start, end, _ = dates[0]
        return start, " ".join(head[start:end].split())
    return None
