"""Citations for an answer: the [n] markers the model wrote, plus post-hoc attribution of uncited
sentences to the passage that shares most of their words."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ragtune.documents.models import Chunk
from ragtune.text import ANSWER_SENTENCES, content_words, split_sentences

_MARKER = re.compile(r"\[(\d{1,2})\]")


@dataclass
class Citation:
    n: int
    source: str
    page: int | None
    chunk_id: str


def attribute(answer: str, chunks: Sequence[Chunk], min_overlap: float = 0.5) -> str:
    """Append a marker to each uncited sentence whose content words mostly occur in one passage."""
    vocab = [content_words(c.text) for c in chunks]
    out = []
    for sentence in split_sentences(answer.strip(), ANSWER_SENTENCES):
        words = content_words(_MARKER.sub("", sentence))
        if sentence and not _MARKER.search(sentence) and words and vocab:
            overlap = [len(words & v) / len(words) for v in vocab]
            best = max(range(len(vocab)), key=overlap.__getitem__)
            if overlap[best] >= min_overlap:
                sentence = insert_marker(sentence, best + 1)
        out.append(sentence)
    return " ".join(out)


def insert_marker(sentence: str, n: int) -> str:
    """``[n]`` at the end of ``sentence``, before its final punctuation."""
    stripped = sentence.rstrip()
    if stripped and stripped[-1] in ".!?":
        return f"{stripped[:-1]} [{n}]{stripped[-1]}"
    return f"{stripped} [{n}]"


def extract_citations(answer: str, chunks: Sequence[Chunk]) -> list[Citation]:
    """The passages the answer cites, in order of first mention; out-of-range markers are ignored."""
    seen: list[int] = []
    for m in _MARKER.finditer(answer):
        n = int(m.group(1))
        if 1 <= n <= len(chunks) and n not in seen:
            seen.append(n)
    return [Citation(n, chunks[n - 1].doc_source, chunks[n - 1].page, chunks[n - 1].id) for n in seen]


def strip_markers(text: str) -> str:
    """``text`` without its ``[n]`` citation markers (and the space before each)."""
    return re.sub(r"\s*" + _MARKER.pattern, "", text)


def strip_invalid_markers(answer: str, n_chunks: int) -> str:
    return _MARKER.sub(lambda m: m.group(0) if 1 <= int(m.group(1)) <= n_chunks else "", answer)
