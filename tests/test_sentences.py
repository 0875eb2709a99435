"""The one sentence splitter: each named rule builds exactly the boundary its module used before, so chunks,
selected sentences, citations and the demo's numbers are unchanged."""

import pytest

from ragtune.text import (
    ANSWER_SENTENCES,
    CHUNK_SENTENCES,
    CITED_SENTENCES,
    CLAIM_SENTENCES,
    GRAPH_SENTENCES,
    QA_SENTENCES,
    SentenceRule,
    sentence_pattern,
    split_sentences,
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
