"""First-stage retrieval: BM25, dense, or both fused by weighted RRF; children resolve to parents."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ragtune.config import RetrievalConfig
from ragtune.documents.models import Chunk
from ragtune.index.bm25 import BM25Index
from ragtune.index.embedder import Embedder
from ragtune.index.store import DenseScan, Filters, Store
from ragtune.index.vector_index import VectorIndex
from ragtune.retrieval.fusion import reciprocal_rank_fusion


@dataclass
class Hit:
    """A retrieved chunk with the evidence for it. ``matched`` lists child chunks that led to a parent."""

    chunk: Chunk
    score: float
    bm25_score: float | None = None
    dense_similarity: float | None = None
    matched: list[str] = field(default_factory=list)


@dataclass
class Retrieval:
    """``dense_scans``: what the store's dense search ran (empty without one)."""

    hits: list[Hit]
    best_similarity: float | None
    bm25_hits: int
    dense_scans: tuple[DenseScan, ...] = ()


class HybridRetriever:
    """Runs the configured ``mode`` over a store, its BM25 index and its vector index."""

    def __init__(self, config: RetrievalConfig, store: Store, bm25: BM25Index, vectors: VectorIndex,
                 embedder: Embedder) -> None:
        self.config = config
        self.store = store
        self.bm25 = bm25
        self.vectors = vectors
        self.embedder = embedder

    def retrieve(self, query: str, top_k: int | None = None, filters: Filters | None = None,
                 dense_vector: np.ndarray | None = None) -> Retrieval:
        """Top chunks for ``query``; ``dense_vector`` replaces the query embedding (HyDE)."""
        cfg = self.config
        top_k = top_k or cfg.top_k
        n = max(cfg.candidates, top_k)
        bm25, dense, allowed, scans = [], [], None, ()
        if cfg.mode in ("hybrid", "bm25"):
            allowed = self.store.matching_ids(filters) if filters else None
            bm25 = self.bm25.sync(self.store).search(query, n, allowed)
        if cfg.mode in ("hybrid", "dense"):
            vector = self.embedder.embed_query(query) if dense_vector is None else dense_vector
            dense = self.vectors.search(vector, n, filters, allowed)
            scans = self.vectors.last_dense_scans
        if cfg.mode == "hybrid":
            fused = reciprocal_rank_fusion([[i for i, _ in bm25], [i for i, _ in dense]],
                                           [cfg.bm25_weight, cfg.dense_weight], cfg.rrf_k)
        else:
            fused = bm25 or dense
        bm25_by, dense_by = dict(bm25), dict(dense)
        chunks = {c.id: c for c in self.store.chunks([i for i, _ in fused[: n]])}
        hits: dict[str, Hit] = {}
        parents_needed = {c.parent_id for c in chunks.values() if c.parent_id}
        parents = {c.id: c for c in self.store.chunks(sorted(parents_needed))}
        for cid, score in fused:
            if cid not in chunks:
                continue
            child = chunks[cid]
            shown = parents.get(child.parent_id, child) if child.parent_id else child
            if shown.id in hits:
                hits[shown.id].matched.append(cid)
                continue
            if len(hits) == top_k:
                continue
            hits[shown.id] = Hit(shown, score, bm25_by.get(cid), dense_by.get(cid),
                                 [cid] if shown.id != cid else [])
        best = max(dense_by.values()) if dense_by else None
        return Retrieval(list(hits.values()), best, len(bm25), scans)
