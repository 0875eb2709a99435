"""Citations for an answer: the [n] markers the model wrote (the grammar is ``ragtune.text``'s), plus post-hoc
attribution of uncited sentences to the passage that shares most of their words."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ragtune.documents.models import Chunk
from ragtune.text import (
    ANSWER_SENTENCES,
    MARKER,
    content_words,
    insert_marker,
    map_markers,
    marker_numbers,
    split_sentences,
    strip_markers,
)


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
        words = content_words(strip_markers(sentence))
        if sentence and not MARKER.search(sentence) and words and vocab:
            overlap = [len(words & v) / len(words) for v in vocab]
            best = max(range(len(vocab)), key=overlap.__getitem__)
            if overlap[best] >= min_overlap:
                sentence = insert_marker(sentence, best + 1)
        out.append(sentence)
    return " ".join(out)


def extract_citations(answer: str, chunks: Sequence[Chunk]) -> list[Citation]:
    """The passages the answer cites, in order of first mention; out-of-range markers are ignored."""
    seen = [n for n in dict.fromkeys(marker_numbers(answer)) if 1 <= n <= len(chunks)]
    return [Citation(n, chunks[n - 1].doc_source, chunks[n - 1].page, chunks[n - 1].id) for n in seen]


def strip_invalid_markers(answer: str, n_chunks: int) -> str:
    """``answer`` without the markers that point past its ``n_chunks`` passages."""
    return map_markers(answer, lambda n: n if 1 <= n <= n_chunks else None)
