"""What generators and the rater share during one synthesis run: the chunk pool, the seeded random
generator, the LLM (loaded on first use) and its usage counters."""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ragtune.datasets.text import QA_WORDS
from ragtune.documents.models import Chunk
from ragtune.errors import InputError
from ragtune.text import content_words

if TYPE_CHECKING:
    from ragtune.llm import LLM
    from ragtune.retrieval.resources import RetrievalResources

_FILENAME_PREFIX = re.compile(r"^.*\d[-_ ]+(?=[A-Za-z])")


def document_name(title: str) -> str:
    """A readable name for questions: file-name ids and dates in front dropped, all-caps title-cased
    (``ACME_2005-EX-10.5-Reseller Agreement`` -> ``Reseller Agreement``)."""
    name = _FILENAME_PREFIX.sub("", title).replace("_", " ").strip() or title
    return name.title() if name.isupper() else name


class ChunkPool:
    """The searchable chunks of an index, visited in a seeded random order so a run covers many chunks;
    ``resources`` gives the index and the first-stage retrieval settings."""

    def __init__(self, resources: RetrievalResources, min_tokens: int, rng: random.Random) -> None:
        self.resources = resources
        store = resources.store
        ids, _ = store.indexed_chunks()
        self.chunks = [c for c in store.chunks(ids) if c.n_tokens >= min_tokens]
        if not self.chunks:
            raise InputError(f"the index has no chunks of at least {min_tokens} tokens: "
                             "run `ragtune ingest PATH` first")
        self.by_id = {c.id: c for c in self.chunks}
        self.titles = {s: d.title for s, d in store.documents().items()}
        self.rng = rng
        self.order: list[Chunk] = []

    def next(self) -> Chunk:
        if not self.order:
            self.order = self.chunks[:]
            self.rng.shuffle(self.order)
        return self.order.pop()

    def name(self, chunk: Chunk) -> str:
        return document_name(self.titles.get(chunk.doc_source, chunk.doc_source))

    @cached_property
    def idf(self) -> dict[str, float]:
        df = Counter(w for c in self.chunks for w in content_words(c.text, QA_WORDS))
        return {w: math.log(len(self.chunks) / n) for w, n in df.items()}

    @cached_property
    def retriever(self):
        from ragtune.retrieval.hybrid import HybridRetriever

        r = self.resources
        return HybridRetriever(r.settings, r.store, r.bm25, r.vectors, r.embedder)

    def search(self, text: str, k: int) -> list[Chunk]:
        """The ``k`` best chunks of the whole index (short ones too) for ``text`` (BM25 + dense, first stage)."""
        return [h.chunk for h in self.retriever.retrieve(text, k).hits]

    def related(self, chunk: Chunk) -> Chunk | None:
        """The most similar other chunk (same or another document) that does not overlap ``chunk``."""
        vector = self.resources.embedder.embed_cached([chunk.text], self.resources.store)[0]
        for cid, _ in self.resources.vectors.search(vector, 12):
            other = self.by_id.get(cid)
            if other is None or other.id == chunk.id:
                continue
            if other.doc_source == chunk.doc_source and other.start < chunk.end and chunk.start < other.end:
                continue
            return other
        return None


class SynthContext:
    """Shared state of one run. ``llm`` is loaded (by ``load_llm``) only when a generator or judge needs it."""

    def __init__(self, load_llm: Callable[[], LLM], pool: ChunkPool, rng: random.Random) -> None:
        self.load_llm = load_llm
        self.pool = pool
        self.rng = rng
        self.usage: Counter[str] = Counter()

    @cached_property
    def llm(self) -> LLM:
        return self.load_llm()

    def generate(self, messages: list[dict[str, str]], **options: Any) -> str:
        """One LLM call with a fresh seed (so retries differ), counted in ``usage``."""
        gen = self.llm.generate(messages, seed=self.rng.randrange(2**31), **options)
        self.usage["llm_calls"] += 1
        self.usage["prompt_tokens"] += gen.prompt_tokens
        self.usage["completion_tokens"] += gen.completion_tokens
        return gen.text
