"""The vector index: the store's exact search below its threshold, a faiss HNSW index (derived data) above."""

from __future__ import annotations

import numpy as np
import pytest

from ragtune.config import ANNConfig
from ragtune.documents.models import Chunk, Document, Page
from ragtune.index.sqlite_store import SQLiteStore
from ragtune.index.vector_index import VectorIndex

DIM = 32


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    x = rng.standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def add_document(store: SQLiteStore, source: str, vectors: np.ndarray, team: str) -> None:
    doc = Document(source=source, title=source, sha256=source, pages=[Page(1, "x")], metadata={"team": team})
    chunks = [Chunk(f"{source}#{i}", source, f"chunk {i}", i, i + 1, 1, 2) for i in range(len(vectors))]
    store.replace_document(doc, chunks, vectors)


@pytest.fixture
def store(tmp_path):
    """400 random unit vectors in 8 documents; ``d0`` (50 chunks) is the only one of team ``a``."""
    rng = np.random.default_rng(0)
    s = SQLiteStore(tmp_path / "index.db", "synthetic")
    for d in range(8):
        add_document(s, f"d{d}", unit(rng, 50), "a" if d == 0 else "b")
    yield s
    s.close()


def queries(n: int = 20) -> np.ndarray:
    return unit(np.random.default_rng(1), n)


def recall_at_10(index: VectorIndex, store: SQLiteStore, filters=None) -> float:
    found = 0
    for q in queries():
        exact = {i for i, _ in store.dense_search(q, 10, filters)}
        got = index.search(q, 10, filters)
        assert len(got) == 10 and all(s <= 1.0 + 1e-5 for _, s in got)
        found += len(exact & {i for i, _ in got})
    return found / (10 * len(queries()))


def test_exact_below_the_threshold(store, tmp_path):
    index = VectorIndex(store, tmp_path / "ann", ANNConfig(threshold=401)).sync()
    assert not index.approximate and not (tmp_path / "ann").exists()
    q = queries(1)[0]
    assert index.search(q, 5) == store.dense_search(q, 5)


def test_hnsw_matches_exact_search(store, tmp_path):
    index = VectorIndex(store, tmp_path / "ann", ANNConfig(threshold=0)).sync()
    assert index.approximate and (tmp_path / "ann" / "state.json").is_file()
    assert recall_at_10(index, store) >= 0.95
    q = queries(1)[0]
    (best, sim), (exact_best, exact_sim) = index.search(q, 1)[0], store.dense_search(q, 1)[0]
    assert best == exact_best and sim == pytest.approx(exact_sim, abs=1e-5)


@pytest.mark.parametrize("threshold", [0, 100])  # 0: filtered HNSW walk; 100: the 50 chunks let through, exactly
def test_filters_are_honoured(store, tmp_path, threshold):
    index = VectorIndex(store, tmp_path / "ann", ANNConfig(threshold=threshold)).sync()
    assert index.approximate
    for q in queries(5):
        got = index.search(q, 10, {"team": "a"})
        assert got and all(i.startswith("d0#") for i, _ in got)
        assert {i for i, _ in got} == {i for i, _ in store.dense_search(q, 10, {"team": "a"})}
    assert index.search(queries(1)[0], 10, {"team": "nobody"}) == []


def test_rebuilt_when_the_store_changes_and_loaded_when_not(store, tmp_path):
    index = VectorIndex(store, tmp_path / "ann", ANNConfig(threshold=0)).sync()
    built = (tmp_path / "ann" / "hnsw.faiss").stat().st_mtime_ns
    reopened = VectorIndex(store, tmp_path / "ann", ANNConfig(threshold=0)).sync()
    assert reopened.approximate and (tmp_path / "ann" / "hnsw.faiss").stat().st_mtime_ns == built
    target = queries(1)[0]
    add_document(store, "new", target[None, :], "c")
    store.remove_document("d1")
    hits = index.search(target, 10)  # the store's generation moved: rebuilt before searching
    assert hits[0][0] == "new#0" and hits[0][1] == pytest.approx(1.0, abs=1e-5)
    assert not any(i.startswith("d1#") for i, _ in index.search(target, 400))
    assert reopened.search(target, 1)[0][0] == "new#0"


def test_a_corrupt_or_missing_index_is_rebuilt(store, tmp_path):
    VectorIndex(store, tmp_path / "ann", ANNConfig(threshold=0)).sync()
    (tmp_path / "ann" / "hnsw.faiss").write_bytes(b"not an index")
    index = VectorIndex(store, tmp_path / "ann", ANNConfig(threshold=0)).sync()
    assert index.approximate and recall_at_10(index, store) >= 0.95
    (tmp_path / "ann" / "hnsw.faiss").unlink()
    index = VectorIndex(store, tmp_path / "ann", ANNConfig(threshold=0)).sync()
    assert index.approximate and (tmp_path / "ann" / "hnsw.faiss").is_file()


def test_project_retrieval_uses_the_hnsw_index(tmp_path, corpus):
    from ragtune import Project
    from ragtune.project import ProjectConfig

    root = tmp_path / "p"
    Project.init(root)
    config = ProjectConfig.load(root / "ragtune.yaml")
    config.store.ann.threshold = 0
    proj = Project(root, config=config)
    try:
        proj.ingest([corpus])
        assert proj.vectors.approximate and (root / ".ragtune" / "ann" / "state.json").is_file()
        ctx = proj.retrieve("How many days of paid vacation?", filters={"source": "*handbook.pdf"}, pipeline="dense")
        assert ctx.hits and all(h.chunk.doc_source.endswith("handbook.pdf") for h in ctx.hits)
    finally:
        proj.close()


def test_a_store_with_its_own_index_is_searched_by_it_and_streams_the_same_vectors(store, tmp_path, new_database):
    """PostgreSQL + pgvector has its HNSW index: the vector index derives none and reports the store's scans;
    ``indexed_vectors`` yields the same ids and vectors from both stores."""
    from ragtune.index.postgres_store import PostgresStore

    pg = PostgresStore(new_database(), "synthetic")
    try:
        rng = np.random.default_rng(0)
        for d in range(8):
            add_document(pg, f"d{d}", unit(rng, 50), "a" if d == 0 else "b")
        ids, vectors = zip(*[(i, v) for batch_ids, batch in pg.indexed_vectors(batch=64)
                             for i, v in zip(batch_ids, batch, strict=True)], strict=True)
        expected = dict(zip(*next(store.indexed_vectors()), strict=True))
        assert list(ids) == list(expected) and np.allclose(np.stack(vectors), np.stack(list(expected.values())))
        index = VectorIndex(pg, tmp_path / "ann", ANNConfig(threshold=0)).sync()
        assert not index.approximate and not (tmp_path / "ann").exists()
        got = index.search(queries(1)[0], 5, {"team": "a"})
        assert len(got) == 5 and all(i.startswith("d0#") for i, _ in got)
        assert index.last_dense_scans and index.last_dense_scans == pg.last_dense_scans
    finally:
        pg.close()
