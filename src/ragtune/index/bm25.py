"""BM25 over the store's searchable chunks (bm25s), saved beside the store and rebuilt when stale."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from ragtune.index.store import Store


class BM25Index:
    """A bm25s index tagged with the store generation it was built from; ``context``: each chunk is indexed with
    its context line (``Chunk.index_text``)."""

    def __init__(self, directory: Path, context: bool = True) -> None:
        self.directory = directory
        self.context = context
        self.retriever = None
        self.ids: list[str] = []
        self.positions: dict[str, int] = {}  # chunk id -> row of the index, for filter masks
        self.generation = -1

    @staticmethod
    def _tokenize(texts: list[str]):
        import bm25s

        return bm25s.tokenize(texts, stopwords="en", stemmer=english_stemmer(), show_progress=False)

    def sync(self, store: Store) -> BM25Index:
        """Load the saved index, or rebuild it when the store has changed since it was built."""
        gen = store.generation()
        if self.generation == gen:
            return self
        state = self.directory / "state.json"
        if state.is_file() and json.loads(state.read_text())["generation"] == gen:
            import bm25s

            self.retriever = bm25s.BM25.load(str(self.directory / "bm25"))
            self.ids = json.loads((self.directory / "ids.json").read_text())
        else:
            self._build(store)
            self._save(gen)
        self.positions = {cid: i for i, cid in enumerate(self.ids)}
        self.generation = gen
        return self

    def _build(self, store: Store) -> None:
        import bm25s

        self.ids, texts = store.indexed_chunks(self.context)
        self.retriever = bm25s.BM25()
        if texts:
            self.retriever.index(self._tokenize(texts), show_progress=False)

    def _save(self, generation: int) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.ids:
            self.retriever.save(str(self.directory / "bm25"))
        tmp = self.directory / "ids.json.tmp"
        tmp.write_text(json.dumps(self.ids))
        tmp.replace(self.directory / "ids.json")
        tmp = self.directory / "state.json.tmp"
        tmp.write_text(json.dumps({"generation": generation, "n": len(self.ids)}))
        tmp.replace(self.directory / "state.json")

    def search(self, query: str, k: int, allowed: set[str] | None = None) -> list[tuple[str, float]]:
        """Top ``k`` (chunk id, BM25 score) with a positive score, restricted to ``allowed`` ids."""
        if not self.ids:
            return []
        tokens = self._tokenize([query])
        if not tokens.vocab:
            return []
        mask = None
        if allowed is not None:
            rows = [self.positions[i] for i in allowed if i in self.positions]
            if not rows:
                return []
            mask = np.zeros(len(self.ids), dtype=np.float32)
            mask[rows] = 1.0
        k = min(k, len(self.ids))
        # n_threads=0: in this thread (any other value starts a thread pool for every call)
        docs, scores = self.retriever.retrieve(tokens, k=k, weight_mask=mask, show_progress=False, n_threads=0)
        return [(self.ids[d], float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]


@lru_cache(maxsize=1)
def english_stemmer():
    """One Snowball stemmer per process (building one per query costs more than stemming the query)."""
    import Stemmer

    return Stemmer.Stemmer("english")
