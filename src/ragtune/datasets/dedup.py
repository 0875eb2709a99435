"""Near-duplicate removal: a question whose embedding is at least ``threshold`` similar (cosine) to an
already kept question is dropped."""

from __future__ import annotations

import numpy as np

from ragtune.datasets.leakage import TextEmbedder, nearest


class NearDuplicateFilter:
    """Keeps questions one at a time (``add``), so a generator can replace a duplicate right away."""

    def __init__(self, embedder: TextEmbedder, threshold: float) -> None:
        self.embedder = embedder
        self.threshold = threshold
        self.vectors: list[np.ndarray] = []

    def add(self, question: str) -> bool:
        """True and kept if ``question`` is new; False if it near-duplicates a kept one."""
        return self._keep(self.embedder.embed([question])[0])

    def filter(self, questions: list[str]) -> list[int]:
        """Indexes of the questions kept, in order (embedded in one batch)."""
        vectors = self.embedder.embed(questions) if questions else []
        return [i for i, v in enumerate(vectors) if self._keep(v)]

    def _keep(self, vector: np.ndarray) -> bool:
        if self.vectors:
            _, sims = nearest(vector[None, :], np.stack(self.vectors))
            if sims[0] >= self.threshold:
                return False
        self.vectors.append(vector)
        return True
