"""Dense search over the store: its exact scan for small stores, a faiss HNSW index (derived data saved beside
the store, rebuilt when stale) for large ones."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from ragtune.config import ANNConfig
from ragtune.index.store import DenseScan, Filters, Store

log = logging.getLogger(__name__)
FORMAT = 1  # bump when the saved files change


class VectorIndex:
    """Top-k cosine search. Below ``config.threshold`` chunks it is the store's own exact search; from there on
    an HNSW index over the store's vectors, tagged with the store generation it was built from (the store stays
    the only source of truth: a missing, stale or unreadable index is rebuilt from it). Filters are honoured on
    both paths: a filter letting fewer than ``threshold`` chunks through is searched exactly over those."""

    def __init__(self, store: Store, directory: Path, config: ANNConfig) -> None:
        self.store = store
        self.directory = directory
        self.config = config
        self.index = None
        self.ids: list[str] = []
        self.rows: dict[str, int] = {}
        self.generation = -1
        self._scans: tuple[DenseScan, ...] = ()

    @property
    def last_dense_scans(self) -> tuple[DenseScan, ...]:
        """What the last ``search`` ran: the store's scans, or the one HNSW / exact search over this index."""
        return self.store.last_dense_scans if self.index is None else self._scans

    @property
    def approximate(self) -> bool:
        """Whether searches go to the HNSW index (after ``sync``)."""
        return self.index is not None

    def sync(self) -> VectorIndex:
        """Pick the exact or the HNSW path for the store's size; load the saved index or rebuild a stale one."""
        gen = self.store.generation()
        if self.generation == gen:
            return self
        self.index, self.ids, self.rows = None, [], {}
        n = self.store.count_chunks()
        if n and n >= self.config.threshold and not self.store.has_vector_index:
            if not self._load(gen):
                self._build()
                self._save(gen)
            self.rows = {cid: i for i, cid in enumerate(self.ids)}
        self.generation = gen
        return self

    def _settings(self) -> dict:
        return {"format": FORMAT, "m": self.config.m, "ef_construction": self.config.ef_construction}

    def _load(self, generation: int) -> bool:
        import faiss

        try:
            state = json.loads((self.directory / "state.json").read_text())
            if state["generation"] != generation or state["settings"] != self._settings():
                return False
            index = faiss.read_index(str(self.directory / "hnsw.faiss"))
            ids = json.loads((self.directory / "ids.json").read_text())
            if index.ntotal != len(ids) or len(ids) != state["n"]:
                raise ValueError(f"{index.ntotal} vectors for {len(ids)} ids")
        except FileNotFoundError:
            return False
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as e:
            log.warning("%s: unreadable vector index (%s); rebuilding it from the store", self.directory, e)
            return False
        self.index, self.ids = index, ids
        return True

    def _build(self) -> None:
        import faiss

        index = None
        for ids, vectors in self.store.indexed_vectors():
            if index is None:
                index = faiss.IndexHNSWFlat(vectors.shape[1], self.config.m, faiss.METRIC_INNER_PRODUCT)
                index.hnsw.efConstruction = self.config.ef_construction
            vectors = np.ascontiguousarray(vectors, dtype=np.float32)
            faiss.normalize_L2(vectors)
            index.add(vectors)
            self.ids.extend(ids)
        self.index = index

    def _save(self, generation: int) -> None:
        import faiss

        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "state.json").unlink(missing_ok=True)  # the files below match no generation until the end
        if self.index is not None:
            faiss.write_index(self.index, str(self.directory / "hnsw.faiss.tmp"))
            (self.directory / "hnsw.faiss.tmp").replace(self.directory / "hnsw.faiss")
        tmp = self.directory / "ids.json.tmp"
        tmp.write_text(json.dumps(self.ids))
        tmp.replace(self.directory / "ids.json")
        tmp = self.directory / "state.json.tmp"
        tmp.write_text(json.dumps({"generation": generation, "n": len(self.ids), "settings": self._settings()}))
        tmp.replace(self.directory / "state.json")

    def search(self, vector: np.ndarray, k: int, filters: Filters | None = None,
               allowed: set[str] | None = None) -> list[tuple[str, float]]:
        """Top ``k`` (chunk id, cosine similarity) for a unit vector among the chunks passing ``filters``;
        ``allowed`` is ``store.matching_ids(filters)`` when the caller has it already."""
        self.sync()
        if self.index is None:
            return self.store.dense_search(vector, k, filters)
        import faiss

        self._scans = ()
        query = np.ascontiguousarray(vector, dtype=np.float32).reshape(1, -1)
        index, ef = self.index, max(self.config.ef_search, k)
        params = faiss.SearchParametersHNSW(efSearch=ef)
        if filters:
            allowed = self.store.matching_ids(filters) if allowed is None else allowed
            rows = np.fromiter((self.rows[i] for i in allowed if i in self.rows), dtype=np.int64)
            if not len(rows):
                return []
            mask = np.zeros(len(self.ids), dtype=bool)
            mask[rows] = True
            bits = np.packbits(mask, bitorder="little")
            selector = faiss.IDSelectorBitmap(len(self.ids), faiss.swig_ptr(bits))
            if len(rows) < self.config.threshold:  # selective: exact over the chunks let through
                index, params = faiss.downcast_index(index.storage), faiss.SearchParameters(sel=selector)
            else:  # HNSW walks through filtered-out nodes; widen its list as the filter gets narrower
                params = faiss.SearchParametersHNSW(
                    sel=selector, efSearch=ef * min(8, max(1, round(len(self.ids) / len(rows)))))
        scores, found = index.search(query, min(k, len(self.ids)), params=params)
        hits = [(self.ids[r], float(s)) for r, s in zip(found[0], scores[0], strict=True) if r >= 0]
        exact = index is not self.index
        self._scans = (DenseScan("faiss-exact" if exact else "faiss-hnsw", len(hits),
                                 None if exact else getattr(params, "efSearch", ef)),)
        return hits
