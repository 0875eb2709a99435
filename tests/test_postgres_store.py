"""The PostgreSQL + pgvector store against a real server (the session's pgserver): the same filter semantics as
SQLite, filtered HNSW searches widened instead of cut short, concurrent writers, clear errors, `ragtune db`."""

from __future__ import annotations

import json
import random
import threading

import numpy as np
import pytest
import sqlean as sqlite3
from typer.testing import CliRunner

from ragtune.cli.main import app
from ragtune.config import ANNConfig, RetrievalConfig, StoreConfig
from ragtune.documents.models import Chunk, Document, Page
from ragtune.errors import ConfigError
from ragtune.index.bm25 import BM25Index
from ragtune.index.postgres_store import PostgresStore
from ragtune.index.sqlite_store import SQLiteStore
from ragtune.index.store import DenseScan, glob_escape, glob_to_regex
from ragtune.index.vector_index import VectorIndex
from ragtune.retrieval.hybrid import HybridRetriever

pytest.importorskip("pgserver")
runner = CliRunner()


def unit(rng: np.random.Generator, n: int, dim: int = 16) -> np.ndarray:
    v = rng.standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def put(store, source: str, n: int, vectors: np.ndarray, metadata: dict | None = None, title: str = "") -> None:
    doc = Document(source=source, title=title or source, sha256=source, pages=[Page(1, "x")],
                   metadata=metadata or {})
    chunks = [Chunk(f"{source}#{i}", source, f"chunk {i} of {source}", i * 10, i * 10 + 9, i % 3 + 1, 4,
                    metadata={"section": "intro" if i == 0 else "body"}) for i in range(n)]
    store.replace_document(doc, chunks, vectors)


def test_glob_patterns_match_what_sqlite_glob_matches(pg_server):
    import psycopg

    alphabet = "ab*?[]^-.\\/ "
    rng = random.Random(7)
    patterns = ["*", "a*", "*[*]*", "[]a]*", "[^a]*", "[a-b]?", "[b-a]*", "[a-]*", "[-a]*", "a[", "[^]]*", "*.b",
                glob_escape("a*b?[c].txt"), "[[]*", "*\\*", "[a-b-]*"]
    patterns += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6))) for _ in range(150)]
    strings = ["", "a", "b", "ab", "a*b?[c].txt", "]", "^", "-", "a.b", "x/a.b", "a\\b", "[", "ba ", "b-a"]
    strings += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 5))) for _ in range(60)]
    lite = sqlite3.connect(":memory:")
    with psycopg.connect(pg_server.get_uri()) as pg:
        for pattern in patterns:
            regex = glob_to_regex(pattern)
            expected = [s for s in strings if lite.execute("SELECT ? GLOB ?", (s, pattern)).fetchone()[0]]
            got = [s for s in strings if pg.execute("SELECT %s ~ %s", (s, regex)).fetchone()[0]]
            assert got == expected, (pattern, regex)


@pytest.fixture(scope="module")
def twin_stores(tmp_path_factory, new_database):
    """The same documents in a SQLite and a PostgreSQL store."""
    rng = np.random.default_rng(1)
    lite = SQLiteStore(tmp_path_factory.mktemp("twin") / "index.db", "synthetic")
    pg = PostgresStore(new_database(), "synthetic")
    docs = [("contracts/a.txt", {"year": 2020, "party": "Acme"}, "Supply"),
            ("contracts/b[1].txt", {"year": "2020", "party": "Globex"}, "Lease"),
            ("notes/c.md", {"year": 2021, "party": "Acme"}, "Supply"),
            ("notes/d*.md", {}, "Memo")]
    for source, metadata, title in docs:
        vectors = unit(rng, 4)
        for store in (lite, pg):
            put(store, source, 4, vectors, metadata, title)
    yield lite, pg, rng
    lite.close()
    pg.close()


@pytest.mark.parametrize("filters", [
    {"source": "contracts/*"}, {"source": "*.md"}, {"source": glob_escape("contracts/b[1].txt")},
    {"source": glob_escape("notes/d*.md")}, {"source": "notes/d*.md"}, {"source": ["*a.txt", "*c.md"]},
    {"title": "Supply"}, {"page": 2}, {"page": "2"}, {"section": "intro"}, {"year": 2020}, {"year": "2020"},
    {"party": ["Acme", "Globex"], "page": [1, 3]}, {"source": "*", "title": "Memo", "section": "body"},
    {"missing": "x"},
])
def test_filters_mean_the_same_on_both_stores(twin_stores, filters):
    lite, pg, rng = twin_stores
    assert pg.matching_ids(filters) == lite.matching_ids(filters)
    q = unit(rng, 1)[0]
    assert [i for i, _ in pg.dense_search(q, 5, filters)] == [i for i, _ in lite.dense_search(q, 5, filters)]


def test_the_stores_agree_on_reads(twin_stores):
    lite, pg, rng = twin_stores
    assert pg.documents() == lite.documents() and pg.indexed_chunks() == lite.indexed_chunks()
    ids = ["notes/c.md#2", "nope", "contracts/a.txt#0"]
    assert pg.chunks(ids) == lite.chunks(ids) and pg.chunks([]) == []
    assert pg.head("notes/c.md", 15) == lite.head("notes/c.md", 15)
    q = unit(rng, 1)[0]
    a, b = pg.dense_search(q, 6), lite.dense_search(q, 6)
    assert [i for i, _ in a] == [i for i, _ in b] and np.allclose([s for _, s in a], [s for _, s in b], atol=1e-5)
    assert pg.count_chunks() == lite.count_chunks() == 16


def test_bm25_and_chunk_ids_are_the_same_on_both_backends(store_project, project):
    assert store_project.store.indexed_chunks() == project.store.indexed_chunks()
    query = "governing law of the supply agreement"
    assert store_project.bm25.sync(store_project.store).search(query, 10) == project.bm25.search(query, 10)


def test_a_filtered_hnsw_search_is_widened_to_k_rows(new_database, tmp_path):
    """pgvector filters after the HNSW scan: with ef_search 40 and a filter passing 10% of the rows, a plain
    query finds only a few; the store widens and returns k: an exact scan of the 300 rows that pass (cheaper than
    HNSW with ef_search 600), or with 30% passing, HNSW with ef_search 200."""
    import psycopg

    url, rng, k = new_database(), np.random.default_rng(3), 30
    store = PostgresStore(url, "synthetic")
    vectors = unit(rng, 3000)
    for d in range(300):
        put(store, f"doc{d:03d}.txt", 10, vectors[d * 10:(d + 1) * 10])
    filters = {"source": "doc*7.txt"}  # 30 of 300 documents, spread over the whole index
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("ANALYZE")  # what autovacuum does: the planner now knows 10% pass, and picks the HNSW index
        plain = db.execute("SELECT count(*) FROM (SELECT id FROM ragtune_chunks WHERE doc_source ~ %s "
                           "ORDER BY embedding <=> %s::vector LIMIT %s) t",
                           (glob_to_regex(filters["source"]), str(vectors[5].tolist()), k)).fetchone()[0]
    assert plain < k
    passing = sorted(store.matching_ids(filters))
    exact = sorted(passing, key=lambda i: -float(vectors[int(i[3:6]) * 10 + int(i.split("#")[1])] @ vectors[5]))
    hits = store.dense_search(vectors[5], k, filters)
    assert len(hits) == k and len(set(i for i, _ in hits) & set(exact[:k])) >= 0.9 * k
    scans = store.last_dense_scans
    assert [(s.method, s.ef_search) for s in scans] == [("hnsw", 40), ("exact", None)]
    assert scans[0].rows < k and scans[-1].rows == k
    assert len(store.dense_search(vectors[5], k, {"source": "doc*[147].txt"})) == k
    assert store.last_dense_scans[0].rows < k and store.last_dense_scans[1] == DenseScan("hnsw", k, 200)
    retrieval = HybridRetriever(RetrievalConfig(mode="dense", candidates=k), store, BM25Index(tmp_path),
                                VectorIndex(store, tmp_path / "ann", ANNConfig()), None).retrieve(
        "unused", k, filters, dense_vector=vectors[5])
    assert retrieval.dense_scans == store.last_dense_scans and len(retrieval.dense_scans) > 1
    assert len(store.dense_search(vectors[5], k)) == k and len(store.last_dense_scans) == 1
    few = {"source": "doc007.txt"}  # fewer rows pass than k: all of them, no widening past the count
    assert len(store.dense_search(vectors[5], k, few)) == 10
    for q in vectors[:8]:  # the same SQL many times (psycopg would prepare it), then a filter passing 1%
        store.dense_search(q, k, filters)
    assert len(store.dense_search(vectors[5], k, {"source": "doc*17.txt"})) == k
    store.close()


def test_concurrent_writers_lose_nothing(new_database):
    """Two writers, each with its own connection, start on an empty database at once and ingest documents
    (some the same) interleaved: every document and every change is there."""
    url = new_database()
    stores: list[PostgresStore] = [None, None]  # type: ignore[list-item]
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def write(n: int) -> None:
        try:
            barrier.wait()
            stores[n] = store = PostgresStore(url, "synthetic")
            rng = np.random.default_rng(n)
            for d in range(25):
                put(store, f"w{n}/doc{d}.txt", 3, unit(rng, 3))
                put(store, f"shared/doc{d % 5}.txt", 2, unit(rng, 2))
        except BaseException as e:  # reported below, in the test's thread
            errors.append(e)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    check = PostgresStore(url, "synthetic")
    docs = check.documents()
    assert len(docs) == 55 and check.count_chunks() == 2 * 25 * 3 + 5 * 2
    assert check.generation() == 100  # one per change, none lost
    assert len(check.indexed_chunks()[0]) == check.count_chunks()
    for store in (*stores, check):
        store.close()


def test_mismatched_index_and_bad_urls_are_config_errors(new_database, tmp_path):
    url = new_database()
    store = PostgresStore(url, "model-a")
    put(store, "a.txt", 2, unit(np.random.default_rng(0), 2))
    with pytest.raises(ConfigError, match="dimensions|16-d vectors"):
        put(store, "b.txt", 1, unit(np.random.default_rng(0), 1, dim=8))
    store.close()
    with pytest.raises(ConfigError, match="built with embedder 'model-a'.*--rebuild"):
        PostgresStore(url, "model-b")
    bad = "postgresql://someone:secret@/nodb?host=/nonexistent-socket-dir"
    with pytest.raises(ConfigError, match="cannot connect") as e:
        PostgresStore(bad, "model-a")
    assert "postgresql://someone:***@/nodb?host=/nonexistent-socket-dir" in str(e.value)
    assert "secret" not in str(e.value)
    from ragtune import Project

    proj = Project.init(tmp_path / "p")
    proj.config.store = StoreConfig(backend="postgres", url=bad)
    proj.config_path.write_text(proj.config.dump())
    result = runner.invoke(app, ["ask", "What is the fee?", "-p", str(proj.root)])
    assert result.exit_code == 1 and "cannot connect" in result.stderr and "nodb" in result.stderr
    assert "Traceback" not in result.stderr and "secret" not in result.stderr


def test_rebuild_drops_the_postgres_index(tmp_path, corpus, init_project):
    proj = init_project(tmp_path / "r", "postgres")
    proj.ingest([corpus / "supply_agreement.md", corpus / "service_agreement.txt"])
    assert proj.store.generation() == 2
    again = proj.ingest([corpus / "supply_agreement.md"], rebuild=True)
    assert again.files_ingested == 1 and list(proj.store.documents()) == [str(corpus / "supply_agreement.md")]
    assert proj.store.generation() == 1 and again.chunks_total == proj.store.count_chunks()
    proj.close()


def test_db_start_status_stop(tmp_path):
    import psycopg

    data = tmp_path / "pg"
    args = ["--data-dir", str(data), "--json"]
    assert runner.invoke(app, ["db", "status", *args]).stdout.count('"running": false') == 1
    started = runner.invoke(app, ["db", "start", *args])
    assert started.exit_code == 0, started.output
    url = json.loads(started.stdout)["url"]
    try:
        assert url.startswith("postgresql://") and "/ragtune?" in url
        with psycopg.connect(url) as db:  # the server outlives the command, and the database exists
            assert db.execute("SELECT current_database()").fetchone()[0] == "ragtune"
        status = runner.invoke(app, ["db", "status", "--data-dir", str(data)])
        assert status.exit_code == 0 and url in status.stdout and "backend: postgres" in status.stdout
        again = runner.invoke(app, ["db", "start", *args])  # finds it running
        assert again.exit_code == 0 and url in again.stdout
    finally:
        stopped = runner.invoke(app, ["db", "stop", "--data-dir", str(data)])
    assert stopped.exit_code == 0 and "Stopped" in stopped.stdout
    assert '"running": false' in runner.invoke(app, ["db", "status", *args]).stdout
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2)

