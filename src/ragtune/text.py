"""Text helpers shared by every layer: the one sentence splitter (``SentenceRule`` options, ``sentence_pattern``,
``split_sentences``), the content words of a text (``WordRule``, ``content_words``: what overlap checks compare),
the citation grammar of answers (the ``[n]`` markers, the sentences that carry them) and what a yes/no question
looks like (``YES_NO_QUESTION``).

Each place that cuts text into sentences names its rule here; the rules differ where the text differs (chunked
documents, QA pairs, model answers, claims), and each reproduces the boundaries its callers were measured with."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Literal

# CUAD's templates prefix some yes/no questions with "What is" ("What is is there an exclusive dealing ...?").
YES_NO_QUESTION = re.compile(r"^(?:what is\s+)?(?:does|do|did|is|are|was|were|has|have|had|can|could|will|would|"
                             r"shall|should|may|must)\b")
"""A lower-cased question that asks for a yes or a no: it opens with an auxiliary verb."""


@dataclass(frozen=True)
class WordRule:
    """What a content word is: ``pattern`` finds the words (then lower-cased), ``stop``: the function words left
    out, ``min_letters``: words of letters shorter than this are left out too (numbers are kept)."""

    pattern: str
    stop: frozenset[str]
    min_letters: int = 1


# Words of three or more letters or digits without common function words: what the overlap checks of answers,
# citations, retrieval and the graph compare. The QA-pair rule (datasets) is ``ragtune.datasets.text.QA_WORDS``.
OVERLAP_WORDS = WordRule(r"[A-Za-z0-9]{3,}", frozenset(
    "the and for that this with are was were from have has had not but shall will which any its into such "
    "other than then there their them they what when who how under upon each all may been being".split()))


def content_words(text: str, rule: WordRule = OVERLAP_WORDS) -> set[str]:
    """The lower-cased content words of ``text`` by ``rule``."""
    words = {w.lower() for w in re.findall(rule.pattern, text)} - rule.stop
    if rule.min_letters > 1:
        words = {w for w in words if len(w) >= rule.min_letters or not w.isalpha()}
    return words


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



# The citation grammar: an answer cites passage n of its prompt (1 to 99) with a marker ``[n]`` in the sentence the
# passage supports. Whatever writes, reads, renumbers or removes markers does it with these.
MARKER = re.compile(r"\[(\d{1,2})\]")
"""A citation marker; group 1 is the passage number."""
_SPACED_MARKER = re.compile(r"\s*" + MARKER.pattern)


def marker_numbers(text: str) -> list[int]:
    """The passage numbers of the markers in ``text``, in order (repeats kept)."""
    return [int(n) for n in MARKER.findall(text)]


def strip_markers(text: str) -> str:
    """``text`` without its markers (and the space before each)."""
    return _SPACED_MARKER.sub("", text)


def map_markers(text: str, number: Callable[[int], int | None]) -> str:
    """Each marker ``[n]`` of ``text`` replaced by ``[number(n)]``, or removed where that is None."""
    def replace(m: re.Match[str]) -> str:
        new = number(int(m.group(1)))
        return "" if new is None else f"[{new}]"

    return MARKER.sub(replace, text)


def insert_marker(sentence: str, n: int) -> str:
    """``[n]`` at the end of ``sentence``, before its final punctuation."""
    stripped = sentence.rstrip()
    if stripped and stripped[-1] in ".!?":
        return f"{stripped[:-1]} [{n}]{stripped[-1]}"
    return f"{stripped} [{n}]"


def split_at_markers(text: str) -> list[str | int]:
    """``text`` as its pieces of text and, between them, the passage numbers of its markers."""
    pieces = MARKER.split(text)  # text, number, text, number, ..., text
    return [int(p) if i % 2 else p for i, p in enumerate(pieces) if p]


def cited_sentences(answer: str) -> list[tuple[str, list[int]]]:
    """The sentences of an answer (``CITED_SENTENCES``) that carry markers, each as (the sentence without its
    markers, white space folded; the passage numbers of its markers, in order)."""
    out = []
    for sentence in split_sentences(answer, CITED_SENTENCES):
        if numbers := marker_numbers(sentence):
            out.append((" ".join(strip_markers(sentence).split()), numbers))
    return out
