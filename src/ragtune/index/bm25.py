"""BM25 over the store's searchable chunks (bm25s), saved beside the store and rebuilt when stale."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ragtune.index.store import Store


class BM25Index:
    """A bm25s index tagged with the store generation it was built from."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.retriever = None
        self.ids: list[str] = []
        self.rows: dict[str, int] = {}
        self.generation = -1

    @staticmethod
    def _tokenize(texts: list[str]):
        import bm25s
        import Stemmer

        return bm25s.tokenize(texts, stopwords="en", stemmer=Stemmer.Stemmer("english"), show_progress=False)

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
        self.rows = {cid: i for i, cid in enumerate(self.ids)}
        self.generation = gen
        return self

    def _build(self, store: Store) -> None:
        import bm25s

        self.ids, texts = store.indexed_chunks()
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
        import bm25s
        import Stemmer

        tokens = bm25s.tokenize([query], stopwords="en", stemmer=Stemmer.Stemmer("english"), return_ids=False,
                                show_progress=False)[0]
        known = [t for t in tokens if t in self.retriever.vocab_dict]
        if not known:
            return []
        mask = None
        if allowed is not None:
            rows = np.fromiter((self.rows[i] for i in allowed if i in self.rows), dtype=np.int64)
            if not len(rows):
                return []
            mask = np.zeros(len(self.ids), dtype=np.float32)
            mask[rows] = 1.0
        # scores, then the top k here: bm25s' retrieve starts a thread pool per call, milliseconds of a query
        scores = self.retriever.get_scores(known, weight_mask=mask)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.ids[d], float(scores[d])) for d in top if scores[d] > 0]
