"""Word-level helpers for building and checking QA pairs: sentences, the QA content-word rule, overlap."""

from __future__ import annotations

import re

from ragtune.text import QA_SENTENCES, WordRule, content_words, split_sentences

_WORD = r"[A-Za-z]+|\d+(?:[.,]\d+)*"
_ABBREVIATION = re.compile(r"\b(?:Dr|Mr|Mrs|Ms|Inc|Ltd|Co|Corp|No|St|Jr|Sr|vs|e\.g|i\.e|U\.S)\.$")
QA_WORDS = WordRule(_WORD, frozenset(
    "a an the and or but if of to in on at by for with from as is are was were be been being this that these those "
    "it its into such other than then there their them they what which who whom whose when where why how do does did "
    "not no shall will would should can could may might must has have had any all each per under upon about also "
    "so only more most same own both either neither between after before during hereof herein hereto thereof "
    "hereunder thereunder say says said according mean means meaning happens happen".split()), min_letters=2)
"""Content words of QA pairs: words of letters (two or more) and numbers (``12,000``), without a wider set of
function words than the overlap checks use."""


def words(text: str) -> list[str]:
    """Lower-cased words and numbers (``$12,000`` -> ``12,000``)."""
    return [w.lower() for w in re.findall(_WORD, text)]


def stems(text: str) -> set[str]:
    """Content words cut to six letters (a cheap stemmer: ``terminate``/``termination`` -> ``termin``)."""
    return {w[:6] if w.isalpha() else w for w in content_words(text, QA_WORDS)}


def support(text: str, evidence: str) -> float:
    """Share of the content words (stemmed) of ``text`` that occur in ``evidence``; 1.0 if it has none."""
    needed = stems(text)
    return len(needed & stems(evidence)) / len(needed) if needed else 1.0


def longest_copied_run(text: str, source: str) -> int:
    """Length in words of the longest run of ``text`` that appears word for word in ``source``."""
    a, b = words(text), words(source)
    best, prev = 0, [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b, start=1):
            if x == y:
                cur[j] = prev[j - 1] + 1
                best = max(best, cur[j])
        prev = cur
    return best


def sentences(text: str, min_chars: int = 40, max_chars: int = 400) -> list[str]:
    """Sentences of ``text`` (white space collapsed) within the length bounds; no cut after ``Dr.``, ``Inc.``..."""
    merged: list[str] = []
    for piece in split_sentences(" ".join(text.split()), QA_SENTENCES):
        if merged and _ABBREVIATION.search(merged[-1]):
            merged[-1] += " " + piece
        else:
            merged.append(piece)
    return [s.strip() for s in merged if min_chars <= len(s.strip()) <= max_chars]


def clip(text: str, max_chars: int) -> str:
    """``text`` cut at a word boundary to at most ``max_chars`` characters."""
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return text
    return text[:max_chars].rsplit(" ", 1)[0].rstrip(",;:") + " ..."
