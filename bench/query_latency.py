"""Query latency of bm25, dense and hybrid retrieval at 10k, 100k and 1M chunks: the store's exact scan (sqlite-vec)
against the HNSW vector index (faiss), measured in the same run; recall@10 of the HNSW index against exact
search (numpy over all stored vectors); build times and peak RSS. The tables in docs/performance.md (## Query latency).

    nice -n 10 python bench/query_latency.py                       # 10k, 100k, 1m
    nice -n 10 python bench/query_latency.py --sizes 10k,100k --queries 100
    nice -n 10 python bench/query_latency.py --sizes 1m --exact-queries 20   # the exact 1M scan takes seconds

Data is synthetic: documents of 100 chunks, chunk texts of ~100 words drawn from a Zipf distribution over a
30k-word vocabulary (its most frequent words are English stop words), 384-d unit vectors from a clustered
low-rank model (like sentence embeddings, whose nearest neighbours are much closer than random pairs), and a
``team`` metadata key with 10 values for the filtered queries. Stores are cached under
$RAGTUNE_CACHE/query_latency/<store>-<size>/ (default ~/.cache/ragtune) and reused when complete.

Each phase runs in its own process so that its peak RSS is its own: ``build`` (write the store, build BM25 and
the HNSW index), ``exact`` (queries with the store's exact scan), ``hnsw`` (the same queries with the index),
``truth`` (exact top 10s for recall).
Query vectors are given (no embedder time): what is measured is the store and its indexes. Latency is of
``HybridRetriever.retrieve`` (top 4 of 30 candidates, chunks fetched from the store), one thread.

Other stores: ``open_store`` opens the store by ``--store``: ``--store postgres --url postgresql://...`` runs the
same phases on PostgreSQL + pgvector, whose own HNSW index then serves the dense side (bench/pg_query.py has its
side-by-side dense numbers).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OMP_NUM_THREADS", "2")

SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
DIM = 384
CHUNKS_PER_DOC = 100
WORDS_PER_CHUNK = 100
VOCAB = 30_000
TEAMS = 10
MODES = ("bm25", "dense", "hybrid", "hybrid+filter")


def cache_root() -> Path:
    return Path(os.environ.get("RAGTUNE_CACHE", Path.home() / ".cache" / "ragtune")) / "query_latency"


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Synthetic:
    """Deterministic synthetic chunks: Zipf-distributed words, clustered low-rank unit vectors."""

    def __init__(self, n: int, seed: int = 0, latent: int = 64) -> None:
        from bm25s.stopwords import STOPWORDS_EN

        rng = np.random.default_rng(seed)
        letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
        words = {"".join(rng.choice(letters, rng.integers(4, 10))) for _ in range(VOCAB * 2)}
        self.vocab = np.array(list(STOPWORDS_EN) + sorted(words)[: VOCAB - len(STOPWORDS_EN)])
        p = 1.0 / np.arange(1, VOCAB + 1) ** 1.07
        self.p = p / p.sum()
        self.mix = rng.standard_normal((latent, DIM)).astype(np.float32) / np.sqrt(latent)
        self.centers = rng.standard_normal((max(16, n // 500), latent)).astype(np.float32)
        self.rng = rng

    def texts(self, m: int, words: int = WORDS_PER_CHUNK) -> list[str]:
        lengths = self.rng.integers(words // 2, words * 3 // 2, m)
        ids = self.rng.choice(VOCAB, size=int(lengths.sum()), p=self.p)
        out, pos = [], 0
        for n in lengths:
            out.append(" ".join(self.vocab[ids[pos: pos + n]]))
            pos += n
        return out

    def vectors(self, m: int) -> np.ndarray:
        z = self.centers[self.rng.integers(0, len(self.centers), m)]
        z = z + 0.6 * self.rng.standard_normal(z.shape, dtype=np.float32)
        x = z @ self.mix + 0.35 * self.rng.standard_normal((m, DIM), dtype=np.float32)
        return x / np.linalg.norm(x, axis=1, keepdims=True)


def open_store(args: argparse.Namespace, folder: Path):
    """The store under test, by ``--store`` (the hook for other backends)."""
    if args.store == "sqlite":
        from ragtune.index.sqlite_store import SQLiteStore

        return SQLiteStore(folder / "index.db", "synthetic")
    if args.store == "postgres":
        from ragtune.index.postgres_store import PostgresStore

        if not args.url:
            raise SystemExit("--store postgres needs --url postgresql://... (`ragtune db start` prints one)")
        return PostgresStore(args.url, "synthetic")
    raise SystemExit(f"--store {args.store}: unknown (sqlite or postgres)")


def build(args: argparse.Namespace, n: int, folder: Path) -> dict:
    """Write ``n`` synthetic chunks, then build BM25 and the HNSW index; timings and peak RSS."""
    from ragtune.config import ANNConfig
    from ragtune.documents.models import Chunk, Document, Page
    from ragtune.index.bm25 import BM25Index
    from ragtune.index.vector_index import VectorIndex

    folder.mkdir(parents=True, exist_ok=True)
    store = open_store(args, folder)
    synth = Synthetic(n)
    t0 = time.perf_counter()
    for d in range(store.count_chunks() // CHUNKS_PER_DOC, n // CHUNKS_PER_DOC):
        texts, vectors = synth.texts(CHUNKS_PER_DOC), synth.vectors(CHUNKS_PER_DOC)
        source = f"doc{d:06d}.txt"
        doc = Document(source=source, title=source, sha256=source, pages=[Page(1, "")],
                       metadata={"team": f"t{d % TEAMS}"})
        chunks = [Chunk(f"{source}#{i}", source, t, 0, len(t), None, len(t.split())) for i, t in enumerate(texts)]
        store.replace_document(doc, chunks, vectors)
    write_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    BM25Index(folder / "bm25").sync(store)
    bm25_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    VectorIndex(store, folder / "ann", ANNConfig(threshold=0)).sync()
    hnsw_s = time.perf_counter() - t0
    store.close()
    return {"write_s": round(write_s, 1), "bm25_build_s": round(bm25_s, 1), "hnsw_build_s": round(hnsw_s, 1),
            "build_peak_rss_mib": round(peak_rss_mib())}


def query_set(n: int, count: int) -> tuple[list[str], np.ndarray]:
    """The benchmark's queries: short texts and vectors from the stored chunks' distributions, new draws."""
    synth = Synthetic(n)
    synth.rng = np.random.default_rng(1)
    return synth.texts(count, words=6), synth.vectors(count)


def truth(args: argparse.Namespace, n: int, folder: Path) -> dict:
    """Exact top-10 ids of every query vector (numpy over all stored vectors), unfiltered and filtered."""
    store = open_store(args, folder)
    allowed = store.matching_ids({"team": "t3"})
    _, qvecs = query_set(n, args.queries)
    best: list[list[tuple[float, str]]] = [[] for _ in qvecs]
    best_filtered: list[list[tuple[float, str]]] = [[] for _ in qvecs]
    for ids, vectors in store.indexed_vectors():
        sims = qvecs @ vectors.T
        keep = np.array([i in allowed for i in ids])
        for q in range(len(qvecs)):
            top = np.argpartition(-sims[q], 10)[:10]
            best[q] = sorted(best[q] + [(float(sims[q, j]), ids[j]) for j in top], reverse=True)[:10]
            top = np.argpartition(-np.where(keep, sims[q], -2.0), 10)[:10]
            best_filtered[q] = sorted(best_filtered[q] + [(float(sims[q, j]), ids[j]) for j in top if keep[j]],
                                      reverse=True)[:10]
    store.close()
    return {"dense@10": [[i for _, i in b] for b in best],
            "dense@10 filter": [[i for _, i in b] for b in best_filtered]}


def query(args: argparse.Namespace, n: int, folder: Path, kind: str) -> dict:
    """Latencies of every mode over the same queries with the ``exact`` scan or the ``hnsw`` index."""
    from ragtune.config import ANNConfig, RetrievalConfig
    from ragtune.index.bm25 import BM25Index
    from ragtune.index.vector_index import VectorIndex
    from ragtune.retrieval.hybrid import HybridRetriever

    store = open_store(args, folder)
    t0 = time.perf_counter()
    bm25 = BM25Index(folder / "bm25").sync(store)
    threshold = 0 if kind == "hnsw" else n + 1
    vectors = VectorIndex(store, folder / "ann", ANNConfig(threshold=threshold)).sync()
    load_s = time.perf_counter() - t0
    texts, qvecs = query_set(n, args.queries)
    count = args.queries if kind == "hnsw" else min(args.queries, args.exact_queries or args.queries)
    out: dict = {"load_s": round(load_s, 2), "queries": count}
    for mode in MODES:
        retriever = HybridRetriever(RetrievalConfig(mode=mode.split("+")[0]), store, bm25, vectors, None)
        filters = {"team": "t3"} if mode.endswith("filter") else None
        lat, tops = [], []
        for i in range(-10, count):  # 10 warm-up queries
            t = time.perf_counter()
            r = retriever.retrieve(texts[i], 4, filters, dense_vector=qvecs[i])
            if i >= 0:
                lat.append(time.perf_counter() - t)
                tops.append([h.chunk.id for h in r.hits])
        ms = np.array(lat) * 1000
        out[mode] = {"p50": round(float(np.percentile(ms, 50)), 2), "p95": round(float(np.percentile(ms, 95)), 2),
                     "top": tops}
    if kind == "hnsw":
        out["dense@10"] = [[i for i, _ in vectors.search(q, 10)] for q in qvecs]
        out["dense@10 filter"] = [[i for i, _ in vectors.search(q, 10, {"team": "t3"})] for q in qvecs]
    out["peak_rss_mib"] = round(peak_rss_mib())
    store.close()
    return out


def recall(approx: list[list[str]], exact: list[list[str]]) -> float:
    """Mean share of the exact lists found in the approximate ones (two empty lists agree)."""
    return float(np.mean([len(set(a) & set(e)) / len(e) if e else float(not a)
                          for a, e in zip(approx, exact, strict=True)]))


def run_phase(args: argparse.Namespace, size: str, phase: str) -> dict:
    """One phase in a fresh process (its own peak RSS)."""
    cmd = [sys.executable, __file__, "--phase", phase, "--sizes", size, "--queries", str(args.queries),
           "--exact-queries", str(args.exact_queries or 0), "--store", args.store]
    cmd += ["--url", args.url] if args.url else []
    print(f"[{size}] {phase} ...", file=sys.stderr, flush=True)
    res = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10k,100k,1m", help="comma-separated, from " + ", ".join(SIZES))
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--exact-queries", type=int, default=None,
                    help="time only this many queries on the exact path (a full scan of 1M vectors takes seconds)")
    ap.add_argument("--store", default="sqlite", help="sqlite (the embedded store); see open_store")
    ap.add_argument("--url", default=None, help="connection URL of a server store")
    ap.add_argument("--phase", choices=["build", "truth", "exact", "hnsw"], help=argparse.SUPPRESS)
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    sizes = args.sizes.split(",")
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        raise SystemExit(f"--sizes: unknown {unknown}; choose from {', '.join(SIZES)}")
    if args.phase:
        size = sizes[0]
        folder = cache_root() / f"{args.store}-{size}"
        if args.phase == "build":
            done = folder / "build.json"
            result = json.loads(done.read_text()) if done.is_file() else build(args, SIZES[size], folder)
            done.write_text(json.dumps(result))
        elif args.phase == "truth":
            result = truth(args, SIZES[size], folder)
        else:
            result = query(args, SIZES[size], folder, args.phase)
        print(json.dumps(result))
        return
    rows = {}
    for size in sizes:
        b = run_phase(args, size, "build")
        exact, hnsw, best = (run_phase(args, size, p) for p in ("exact", "hnsw", "truth"))
        rows[size] = {"build": b, "exact": exact, "hnsw": hnsw}
        print(f"\n{size} chunks ({args.store}): write {b['write_s']} s, BM25 build {b['bm25_build_s']} s, "
              f"HNSW build {b['hnsw_build_s']} s, build peak RSS {b['build_peak_rss_mib']} MiB; "
              f"load exact {exact['load_s']} s / hnsw {hnsw['load_s']} s; peak RSS exact "
              f"{exact['peak_rss_mib']} MiB / hnsw {hnsw['peak_rss_mib']} MiB")
        rows[size]["recall@10"] = {k: round(recall(hnsw[k], best[k]), 4) for k in ("dense@10", "dense@10 filter")}
        print(f"recall@10 of the HNSW dense search vs exact ({args.queries} queries): "
              f"{rows[size]['recall@10']['dense@10']:.3f} (filtered to 10%: "
              f"{rows[size]['recall@10']['dense@10 filter']:.3f}); exact path timed on {exact['queries']} queries")
        print("| mode | exact p50 ms | exact p95 ms | hnsw p50 ms | hnsw p95 ms | p95 exact/hnsw | top-4 overlap |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for mode in MODES:
            e, h = exact[mode], hnsw[mode]
            print(f"| {mode} | {e['p50']} | {e['p95']} | {h['p50']} | {h['p95']} | "
                  f"{e['p95'] / max(h['p95'], 1e-9):.1f}x | {recall(h['top'][:len(e['top'])], e['top']):.3f} |")
    if args.json:
        for r in rows.values():
            for kind in ("exact", "hnsw"):
                r[kind] = {k: ({kk: vv for kk, vv in v.items() if kk != "top"} if isinstance(v, dict) else v)
                           for k, v in r[kind].items() if not k.startswith("dense@10")}
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
