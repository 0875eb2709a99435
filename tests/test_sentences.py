"""The one sentence splitter: each named rule builds exactly the boundary its module used before, so chunks,
selected sentences, citations and the demo's numbers are unchanged."""

import re
from pathlib import Path

import pytest

from ragtune.text import (
    ANSWER_SENTENCES,
    CHUNK_SENTENCES,
    CITED_SENTENCES,
    CLAIM_SENTENCES,
    GRAPH_SENTENCES,
    QA_SENTENCES,
    SentenceRule,
    cited_sentences,
    content_words,
    insert_marker,
    map_markers,
    marker_numbers,
    sentence_pattern,
    split_at_markers,
    split_sentences,
    strip_markers,
)

BEFORE = [  # the regular expressions the seven splitters compiled
    (CHUNK_SENTENCES, r"(?<=[.!?;])[\"')\]]*\s+(?=[A-Z0-9(\"\[])|\n[ \t]*\n"),
    (QA_SENTENCES, r"(?<=[.!?;:])[\"')\]]*\s+(?=[A-Z0-9(\"\[])"),
    (ANSWER_SENTENCES, r"(?<=[A-Za-z)\"'\u201d][.!?])\s+"),
    (CITED_SENTENCES, r"(?<=[.!?])\s+(?=[A-Z\[(\"])"),
    (CLAIM_SENTENCES, r"(?<=[.!?])\s+|\n+"),
    (GRAPH_SENTENCES, r"[.!?;](?=\s+[A-Z(\"\u201c0-9])|\n\s*\n"),
]


@pytest.mark.parametrize(("rule", "pattern"), BEFORE)
def test_each_rule_is_the_boundary_it_replaces(rule, pattern):
    assert sentence_pattern(rule).pattern == pattern


def test_options():
    text = 'He said "Stop." Then he left. e.g. this\n\nNew part'
    assert split_sentences(text, SentenceRule()) == ['He said "Stop." Then he left.', "e.g.", "this\n\nNew part"]
    # closers: the quote ends the first sentence (split drops the boundary; the chunkers' spans keep it)
    assert split_sentences(text, CHUNK_SENTENCES) == ['He said "Stop.', "Then he left. e.g. this", "New part"]
    assert [m.end() for m in sentence_pattern(CHUNK_SENTENCES).finditer(text)] == [16, 41]
    assert split_sentences("One. two? Three", CITED_SENTENCES) == ["One. two?", "Three"]
    assert split_sentences("A claim\nanother one", CLAIM_SENTENCES) == ["A claim", "another one"]


def test_the_citation_grammar():
    answer = "The term is three (3) years [1][2]. It renews [3].  Nothing cited here. Fee [12]: $5 [1]."
    assert marker_numbers(answer) == [1, 2, 3, 12, 1]
    assert strip_markers(answer) == "The term is three (3) years. It renews.  Nothing cited here. Fee: $5."
    assert map_markers(answer, {1: 2, 2: 1}.get) == "The term is three (3) years [2][1]. It renews . " \
        " Nothing cited here. Fee : $5 [2]."
    assert insert_marker("It renews.", 4) == "It renews [4]." and insert_marker("It renews", 4) == "It renews [4]"
    assert split_at_markers("A [1] b [23].") == ["A ", 1, " b ", 23, "."]
    assert cited_sentences(answer) == [("The term is three (3) years.", [1, 2]), ("It renews.", [3]),
                                       ("Fee: $5.", [12, 1])]


def test_content_words_by_rule():
    from ragtune.datasets.text import QA_WORDS

    text = "The Supplier pays $12,000 within 5 days of a claim, or 2% of it."
    assert content_words(text) == {"supplier", "pays", "000", "within", "days", "claim"}
    assert content_words(text, QA_WORDS) == {"supplier", "pays", "12,000", "within", "5", "days", "claim", "2"}


SRC = Path(__file__).parents[1] / "src" / "ragtune"
GRAMMARS = {  # what defines each grammar, as it would be written in source, and the one module that may
    "citation marker regex": (re.compile(r"\\\[\(?\\d"), "text.py"),  # r"\[\d" or r"\[(\d"
    "content words": (re.compile(r"^\s*def content_words\b", re.M), "text.py"),
    # a number with thousands separators: the amount grammar that selection, packs and metrics share
    "amount regex": (re.compile(r"\\d\{1,3\}\(\?:,\\d\{3\}\)"), "values.py"),
    "numeric date regex": (re.compile(r"\[/-\]"), "values.py"),
}


@pytest.mark.parametrize("grammar", GRAMMARS)
def test_each_grammar_is_defined_once(grammar):
    pattern, home = GRAMMARS[grammar]
    found = [str(path.relative_to(SRC)) for path in sorted(SRC.rglob("*.py"))
             if pattern.search(path.read_text(encoding="utf-8"))]
    assert found == [home], f"the {grammar} is defined outside ragtune/{home}: {found}"
