"""Dense query latency and recall: the PostgreSQL + pgvector store (HNSW) against the SQLite + sqlite-vec store
(exact), on the same synthetic clustered 384-d unit vectors, in one run on this machine.

    nice -n 10 python bench/pg_query.py --sizes 10000 100000 --queries 200

Per size: ingest time of each store (documents of 100 chunks, one transaction each), then p50/p95 of
``dense_search(k=30)`` unfiltered, with a source filter passing 10% of the rows and one passing 1%, recall@30 of
pgvector against the exact answer, and how many filtered searches the store had to widen. A local PostgreSQL 16
comes from pgserver (deleted afterwards)."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from ragtune.documents.models import Chunk, Document, Page
from ragtune.index.postgres_store import PostgresStore
from ragtune.index.sqlite_store import SQLiteStore

PER_DOC, K = 100, 30


def vectors(rng: np.random.Generator, n: int, dim: int, centers: np.ndarray) -> np.ndarray:
    """Clustered like real embeddings: a random center plus noise, normalised."""
    v = centers[rng.integers(0, len(centers), n)] + 0.6 * rng.standard_normal((n, dim)).astype(np.float32)
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def fill(store, data: np.ndarray) -> float:
    t0 = time.perf_counter()
    for d in range(len(data) // PER_DOC):
        source = f"doc{d:05d}.txt"
        chunks = [Chunk(f"{source}#{i}", source, f"chunk {i}", i, i + 1, 1, 1) for i in range(PER_DOC)]
        store.replace_document(Document(source=source, title=source, sha256=source, pages=[Page(1, "x")]), chunks,
                               data[d * PER_DOC:(d + 1) * PER_DOC])
    return time.perf_counter() - t0


def timed(store, queries: np.ndarray, filters: dict | None) -> tuple[list[float], list[list[str]], int]:
    seconds, results, widened = [], [], 0
    for q in queries:
        t0 = time.perf_counter()
        hits = store.dense_search(q, K, filters)
        seconds.append(time.perf_counter() - t0)
        results.append([i for i, _ in hits])
        widened += len(store.last_dense_scans) > 1
    return seconds, results, widened


def ms(values: list[float], p: float) -> float:
    return float(np.percentile(values, p) * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--dim", type=int, default=384)
    args = parser.parse_args()
    import pgserver
    import psycopg

    rng = np.random.default_rng(0)
    centers = rng.standard_normal((200, args.dim)).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        server = pgserver.get_server(Path(tmp) / "pg", cleanup_mode="delete")
        try:
            for n in args.sizes:
                data, queries = vectors(rng, n, args.dim, centers), vectors(rng, args.queries, args.dim, centers)
                with psycopg.connect(server.get_uri(), autocommit=True) as db:
                    db.execute(f"CREATE DATABASE bench_{n}")
                pg = PostgresStore(server.get_uri(database=f"bench_{n}"), "synthetic")
                lite = SQLiteStore(Path(tmp) / f"lite_{n}.db", "synthetic")
                ingest = {"pgvector": fill(pg, data), "sqlite-vec": fill(lite, data)}
                with psycopg.connect(server.get_uri(database=f"bench_{n}"), autocommit=True) as db:
                    db.execute("VACUUM ANALYZE")  # what autovacuum would have done by now
                print(f"\n{n} chunks, {args.dim}-d: ingest pgvector {ingest['pgvector']:.1f} s "
                      f"({n / ingest['pgvector']:.0f}/s), sqlite-vec {ingest['sqlite-vec']:.1f} s "
                      f"({n / ingest['sqlite-vec']:.0f}/s)")
                print("| filter | pgvector p50 / p95 ms | sqlite-vec p50 / p95 ms | sqlite-vec / pgvector p50 "
                      "| pgvector recall@30 | widened |")
                print("|---|---|---|---|---|---|")
                for label, filters in [("none", None), ("10% of rows", {"source": "doc*7.txt"}),
                                       ("1% of rows", {"source": "doc*07.txt"})]:
                    timed(pg, queries[:10], filters), timed(lite, queries[:10], filters)  # warm caches
                    pg_s, pg_ids, widened = timed(pg, queries, filters)
                    lite_s, lite_ids, _ = timed(lite, queries, filters)
                    recall = np.mean([len(set(a) & set(b)) / max(len(b), 1) for a, b in zip(pg_ids, lite_ids,
                                                                                              strict=True)])
                    print(f"| {label} | {ms(pg_s, 50):.1f} / {ms(pg_s, 95):.1f} | {ms(lite_s, 50):.1f} / "
                          f"{ms(lite_s, 95):.1f} | {ms(lite_s, 50) / ms(pg_s, 50):.1f}x | {recall:.3f} | "
                          f"{widened}/{len(queries)} |", flush=True)
                pg.close()
                lite.close()
        finally:
            server.cleanup()


if __name__ == "__main__":
    main()
