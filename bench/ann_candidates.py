"""The HNSW libraries compared before choosing faiss for ragtune's vector index (docs/architecture.md): build time,
single-query p50/p95, recall@10 against exact search and memory, on the synthetic vectors of query_latency.py.

    pip install usearch hnswlib    # faiss-cpu is a ragtune dependency; the others are only for this comparison
    nice -n 10 python bench/ann_candidates.py --n 100000 faiss hnswlib usearch

Same graph settings for all (M=16, ef_construction=128, inner product on unit vectors), built on every core,
searched one query at a time on one thread. Each library runs in its own process; index_rss_mib is the resident
memory the built index added.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from query_latency import Synthetic  # noqa: E402  (a sibling bench script)

EFS = (32, 64, 128)


def build_and_search(lib: str, data: np.ndarray, queries: np.ndarray):
    """Build ``lib``'s index; yield (ef, search function) per ef_search value, after the build time."""
    n, dim = data.shape
    if lib == "faiss":
        import faiss

        index = faiss.IndexHNSWFlat(dim, 16, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 128
        index.add(data)
        faiss.omp_set_num_threads(1)
        for ef in EFS:
            index.hnsw.efSearch = ef
            yield ef, lambda q: index.search(q[None, :], 10)[1][0]
    elif lib == "hnswlib":
        import hnswlib

        index = hnswlib.Index(space="ip", dim=dim)
        index.init_index(max_elements=n, M=16, ef_construction=128)
        index.add_items(data, np.arange(n))
        index.set_num_threads(1)
        for ef in EFS:
            index.set_ef(ef)
            yield ef, lambda q: index.knn_query(q, k=10)[0][0]
    elif lib == "usearch":
        from usearch.index import Index

        index = Index(ndim=dim, metric="ip", dtype="f32", connectivity=16, expansion_add=128)
        index.add(np.arange(n), data)
        for ef in EFS:
            index.expansion_search = ef
            yield ef, lambda q: index.search(q, 10, threads=1).keys
    else:
        raise SystemExit(f"unknown library {lib!r}")


def rss_mib() -> float:
    """Current resident memory (Linux)."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure(lib: str, n: int, n_queries: int) -> dict:
    synth = Synthetic(n)
    data = synth.vectors(n)
    queries = synth.vectors(n_queries)
    truth = [set(np.argsort(-(data @ q))[:10].tolist()) for q in queries]
    rss0 = rss_mib()
    t0 = time.perf_counter()
    out: dict = {"lib": lib, "n": n}
    for ef, search in build_and_search(lib, data, queries):
        if "build_s" not in out:
            out["build_s"], out["index_rss_mib"] = round(time.perf_counter() - t0, 1), round(rss_mib() - rss0)
        lat, found = [], 0
        for q, t in zip(queries, truth, strict=True):
            s = time.perf_counter()
            ids = search(q)
            lat.append((time.perf_counter() - s) * 1000)
            found += len(t & {int(i) for i in ids})
        out[f"ef={ef}"] = {"p50_ms": round(float(np.percentile(lat, 50)), 3),
                           "p95_ms": round(float(np.percentile(lat, 95)), 3),
                           "recall@10": round(found / (10 * len(queries)), 3)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("libs", nargs="+", choices=["faiss", "hnswlib", "usearch"])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(measure(args.libs[0], args.n, args.queries)))
        return
    for lib in args.libs:
        res = subprocess.run([sys.executable, __file__, lib, "--one", "--n", str(args.n), "--queries",
                              str(args.queries)], check=True, capture_output=True, text=True)
        print(res.stdout.strip().splitlines()[-1], flush=True)


if __name__ == "__main__":
    main()
