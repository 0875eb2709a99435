"""Text helpers shared by every layer: the one sentence splitter (``SentenceRule`` options, ``sentence_pattern``,
``split_sentences``), the content words of a text (what overlap checks compare) and what a yes/no question
looks like (``YES_NO_QUESTION``).

Each place that cuts text into sentences names its rule here; the rules differ where the text differs (chunked
documents, QA pairs, model answers, claims), and each reproduces the boundaries its callers were measured with."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

_WORD = re.compile(r"[A-Za-z0-9]{3,}")
_STOP = frozenset(
    "the and for that this with are was were from have has had not but shall will which any its into such "
    "other than then there their them they what when who how under upon each all may been being".split()
)


# CUAD's templates prefix some yes/no questions with "What is" ("What is is there an exclusive dealing ...?").
YES_NO_QUESTION = re.compile(r"^(?:what is\s+)?(?:does|do|did|is|are|was|were|has|have|had|can|could|will|would|"
                             r"shall|should|may|must)\b")
"""A lower-cased question that asks for a yes or a no: it opens with an auxiliary verb."""


TABLE_ROW = re.compile(r"^[^\n|]*(?: \| [^\n|]+)+$", re.MULTILINE)
"""A table row as the loaders write it: ``title | label | header: cell | ...`` on one line (cells joined by " | ")."""


def is_table_row(line: str) -> bool:
    """Whether ``line`` is a table row: cells joined by " | ", two joins or more, or one before a ``header: cell``."""
    line = line.strip()
    if not TABLE_ROW.fullmatch(line):
        return False
    parts = line.split(" | ")
    return len(parts) >= 3 or ": " in parts[1]


def table_row_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """The (start, end) of each table row line inside ``text[start:end]``."""
    end = len(text) if end is None else end
    return [(m.start(), m.end()) for m in TABLE_ROW.finditer(text, start, end) if is_table_row(m.group())]


def content_words(text: str) -> set[str]:
    """Lower-cased words of three or more letters or digits, without common function words."""
    return {w.lower() for w in _WORD.findall(text)} - _STOP


@dataclass(frozen=True)
class SentenceRule:
    """Where a sentence ends. ``ends``: the end marks; ``after``: what must precede the mark (a regex character
    class, "" for anything); ``closers``: closing quotes and brackets after the mark stay with the sentence;
    ``starts``: what the next sentence must begin with ("" for anything); ``keep_space``: the boundary is the
    mark itself (the spaces after it begin the next piece) instead of the mark and the spaces after it;
    ``breaks``: line breaks that end a sentence too (``blank``: a blank line of spaces and tabs, ``blank_any``:
    one of any white space, ``line``: any line break)."""

    ends: str = ".!?"
    after: str = ""
    closers: bool = False
    starts: str = ""
    keep_space: bool = False
    breaks: Literal["", "blank", "blank_any", "line"] = ""


_BREAKS = {"": "", "blank": r"|\n[ \t]*\n", "blank_any": r"|\n\s*\n", "line": r"|\n+"}

# The rules in use: document chunks, QA pairs, model answers (citation attribution), cited answers (citation
# checks), claims of an answer (grounding metrics), sentences of the knowledge-graph rule extractor.
CHUNK_SENTENCES = SentenceRule(ends=".!?;", closers=True, starts=r"A-Z0-9(\"\[", breaks="blank")
QA_SENTENCES = SentenceRule(ends=".!?;:", closers=True, starts=r"A-Z0-9(\"\[")
ANSWER_SENTENCES = SentenceRule(after=r"A-Za-z)\"'\u201d")
CITED_SENTENCES = SentenceRule(starts=r"A-Z\[(\"")
CLAIM_SENTENCES = SentenceRule(breaks="line")
GRAPH_SENTENCES = SentenceRule(ends=".!?;", starts=r"A-Z(\"\u201c0-9", keep_space=True, breaks="blank_any")


@cache
def sentence_pattern(rule: SentenceRule) -> re.Pattern[str]:
    """The compiled boundary of ``rule``: what ``split_sentences`` cuts at (``finditer`` gives the cuts)."""
    if rule.keep_space:
        mark = f"[{rule.ends}]" + (rf"(?=\s+[{rule.starts}])" if rule.starts else r"(?=\s)")
    else:
        behind = f"(?<=[{rule.after}][{rule.ends}])" if rule.after else f"(?<=[{rule.ends}])"
        mark = behind + (r"[\"')\]]*" if rule.closers else "") + r"\s+" + (f"(?=[{rule.starts}])" if rule.starts
                                                                           else "")
    return re.compile(mark + _BREAKS[rule.breaks])


def sentence_cuts(text: str, rule: SentenceRule, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """The boundaries of ``rule`` in ``text[start:end]`` as (start, end) of the separator matched, none inside a
    table row, and the line ends around each row (a row is one sentence)."""
    end = len(text) if end is None else end
    rows = table_row_spans(text, start, end)
    cuts = [(m.start(), m.end()) for m in sentence_pattern(rule).finditer(text, start, end)
            if not any(a < m.end() and m.start() < b for a, b in rows)]
    cuts += [(a, a) for a, _ in rows] + [(b, b) for _, b in rows]
    return sorted(set(cuts))


def split_sentences(text: str, rule: SentenceRule) -> list[str]:
    """``text`` cut at every boundary of ``rule`` (the pieces as ``re.split`` gives them, not stripped); a table
    row (``is_table_row``) is one piece, never cut."""
    if " | " not in text or not table_row_spans(text):
        return sentence_pattern(rule).split(text)
    pieces, pos = [], 0
    for a, b in sentence_cuts(text, rule):
        if a >= pos:
            pieces.append(text[pos:a])
            pos = b
    pieces.append(text[pos:])
    return [p for p in pieces if p] or [text]

