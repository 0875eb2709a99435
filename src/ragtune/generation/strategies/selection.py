"""Sentence selection: the retrieved chunks cut into sentences, each scored against the question by the
embedder (cosine) or a cross-encoder, the best kept verbatim with the number of the chunk they come from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ragtune.documents.chunkers.base import sentences
from ragtune.generation.citations import insert_marker

if TYPE_CHECKING:
    from ragtune.documents.models import Chunk
    from ragtune.generation.config import AnswerConfig
    from ragtune.index.embedder import Embedder

MIN_WORDS = 3


@dataclass
class Sentence:
    """A sentence of the ``n``-th passage (1-based, as cited), at ``start``:``end`` of its text."""

    text: str
    n: int
    start: int
    end: int
    score: float = 0.0
    similarity: float = 0.0  # the embedder's cosine to the question, whichever scorer set ``score``


def split_passages(chunks: list[Chunk], max_chars: int) -> list[Sentence]:
    """Every sentence of every passage with at least ``MIN_WORDS`` words; over-long ones are cut at a word
    boundary near ``max_chars`` (a contract "sentence" can run for a page)."""
    out = []
    for n, chunk in enumerate(chunks, start=1):
        for start, end in sentences(chunk.text, (0, len(chunk.text))):
            text = " ".join(chunk.text[start:end].split())
            if len(text) > max_chars:
                text = text[: text.rfind(" ", 0, max_chars)] + " ..."
            if len(text.split()) >= MIN_WORDS:
                out.append(Sentence(text, n, start, end))
    return out


class SentenceSelector:
    """Picks the ``config.sentences`` sentences that best answer a question, scored by the embedder's cosine or,
    when given, a cross-encoder (anything with sentence-transformers' ``CrossEncoder.predict``)."""

    def __init__(self, config: AnswerConfig, embedder: Embedder, cross_encoder: Any | None = None) -> None:
        self.config = config
        self.embedder = embedder
        self.cross_encoder = cross_encoder

    def score(self, question: str, candidates: list[Sentence]) -> None:
        """Set each candidate's ``similarity`` (the embedder's cosine, in [-1, 1]) and ``score`` (the same, or the
        cross-encoder's score when there is one)."""
        if not candidates:
            return
        texts = [s.text for s in candidates]
        cosines = np.asarray(self.embedder.embed(texts) @ self.embedder.embed_query(question), dtype=float)
        scores = cosines if self.cross_encoder is None else np.asarray(
            self.cross_encoder.predict([(question, t) for t in texts], show_progress_bar=False), dtype=float)
        for s, cosine, value in zip(candidates, cosines, scores, strict=True):
            s.similarity, s.score = float(cosine), float(value)

    def select(self, question: str, chunks: list[Chunk],
               states: Callable[[str], bool] | None = None) -> list[Sentence]:
        """The best sentences, best first (a reader meets the strongest evidence first); a sentence that holds the
        kind of value the question asks for (``states``: the answer pack's ``states_form`` of its form) scores
        ``answer.form_bonus`` more."""
        candidates = split_passages(chunks, self.config.max_sentence_chars)
        self.score(question, candidates)
        if self.config.form_bonus and states:
            for s in candidates:
                s.score += self.config.form_bonus * states(s.text)
        return sorted(candidates, key=lambda s: (-s.score, s.n, s.start))[: self.config.sentences]


def quote(selected: list[Sentence]) -> str:
    """The sentences as an answer, each with its passage's citation marker."""
    return " ".join(insert_marker(s.text, s.n) for s in selected)
