"""Parse ``Question: ... / Answer: ...`` from small-model output, tolerating markdown, missing labels and
extra chatter. Failures raise ParseError with a short reason code that the data card counts."""

from __future__ import annotations

import re

_LABEL = re.compile(r"^\W*(question|q|answer|a)\s*\d*\s*\W*\s*[:.)-]\s*\**\s*", re.IGNORECASE)


class ParseError(ValueError):
    """The output holds no usable pair; ``reason`` is a short code (no_question, no_answer)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _clean(text: str) -> str:
    return " ".join(text.replace("**", "").split()).strip().strip('"\u201c\u201d').strip()


def _fields(text: str) -> tuple[list[str], list[str], list[str]]:
    """Lines after a Question label, lines after an Answer label, and unlabelled lines before any label."""
    question: list[str] = []
    answer: list[str] = []
    loose: list[str] = []
    current: list[str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        m = _LABEL.match(line)
        if m:
            label = m.group(1).lower()
            target = question if label.startswith("q") else answer
            if target and current is not target:  # a second pair starts: keep the first one only
                break
            current = target
            line = line[m.end():]
            if not line:
                continue
        (current if current is not None else loose).append(line)
    return question, answer, loose


def parse_qa(text: str) -> tuple[str, str]:
    """The first question and its answer. Without an Answer label, the text after the first ``?`` is the
    answer (``Question: X? Y`` or unlabelled ``X? Y``)."""
    question, answer, loose = _fields(text)
    if not answer:
        head, mark, rest = " ".join(question or loose).partition("?")
        question, answer = ([head + mark], [rest]) if mark else (question, [])
    q, a = _clean(" ".join(question)), _clean(" ".join(answer))
    if not q:
        raise ParseError("no_question")
    if not a:
        raise ParseError("no_answer")
    return q, a


def parse_question(text: str) -> str:
    """The first question in the output (labelled or not)."""
    question, _, loose = _fields(text)
    q = _clean(" ".join(question or loose[:1]))
    if "?" in q:
        q = q[: q.index("?") + 1]
    if not q:
        raise ParseError("no_question")
    return q
