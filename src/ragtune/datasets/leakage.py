"""Leakage check: test questions that are near-duplicates (cosine similarity of their embeddings at or
above a threshold) of training questions. Used by the dataset split and by benchmarks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np


class TextEmbedder(Protocol):
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-normalised vectors, one row per text."""


@dataclass
class LeakageReport:
    """``pairs``: (test index, train index, similarity) of every leaking test question, most similar first."""

    threshold: float
    n_train: int
    n_test: int
    pairs: list[tuple[int, int, float]] = field(default_factory=list)
    max_similarity: float = 0.0
    questions: list[tuple[str, str]] = field(default_factory=list)

    @property
    def n_leaked(self) -> int:
        return len(self.pairs)

    @property
    def ok(self) -> bool:
        return not self.pairs

    def to_dict(self, limit: int = 20) -> dict[str, Any]:
        return {"threshold": self.threshold, "n_train": self.n_train, "n_test": self.n_test,
                "n_leaked": self.n_leaked, "max_similarity": round(self.max_similarity, 4),
                "pairs": [{"test": t, "train": r, "similarity": round(s, 4), "test_question": tq,
                           "train_question": rq}
                          for (t, r, s), (tq, rq) in zip(self.pairs[:limit], self.questions[:limit], strict=True)]}


def nearest(queries: np.ndarray, keys: np.ndarray, block: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """For each query row: index of the most similar key row and that cosine similarity."""
    if len(queries) == 0 or len(keys) == 0:
        return np.zeros(len(queries), dtype=int), np.full(len(queries), -1.0, dtype=np.float32)
    best_i, best_s = [], []
    for start in range(0, len(queries), block):
        sims = queries[start : start + block] @ keys.T
        best_i.append(sims.argmax(axis=1))
        best_s.append(sims.max(axis=1))
    return np.concatenate(best_i), np.concatenate(best_s)


def leakage_from_vectors(train: np.ndarray, test: np.ndarray, threshold: float) -> list[tuple[int, int, float]]:
    index, sims = nearest(test, train)
    leaks = [(int(t), int(index[t]), float(sims[t])) for t in np.flatnonzero(sims >= threshold)]
    return sorted(leaks, key=lambda p: -p[2])


def check_leakage(train_questions: Sequence[str], test_questions: Sequence[str], embedder: TextEmbedder,
                  threshold: float) -> LeakageReport:
    """Which test questions have a training question at cosine similarity >= ``threshold``."""
    train = embedder.embed(list(train_questions))
    test = embedder.embed(list(test_questions))
    pairs = leakage_from_vectors(train, test, threshold)
    _, sims = nearest(test, train)
    return LeakageReport(threshold, len(train_questions), len(test_questions), pairs,
                         float(sims.max()) if len(sims) else 0.0,
                         [(test_questions[t], train_questions[r]) for t, r, _ in pairs])
