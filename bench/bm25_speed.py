"""BM25 index build time, queries/s and peak RSS: ragtune's BM25Index (through a real SQLiteStore, its
tokenizer and chunk-id mapping) vs raw bm25s vs rank_bm25, on the same documents, in one run
(docs/performance.md, "BM25").

    nice -n 10 python bench/bm25_speed.py                      # 50k documents, 1000 queries
    nice -n 10 python bench/bm25_speed.py --docs 5000 --queries 200

The documents are synthetic: 40-160 words drawn from the word frequencies of the CUAD contracts in
data/cuad_retrieval (no shipped corpus has 50k passages). Queries are 2-6 words of a random document. Each system
runs in its own subprocess, so each peak RSS is its own. Queries run one at a time (as a server sees them);
all three use bm25s' English stopwords and the Snowball stemmer, so the rankings agree (checked). rank_bm25 is
installed into this Python if missing (``pip install rank_bm25``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "data" / "cuad_retrieval" / "corpus.jsonl"
K = 10
CHECKED = 50  # queries whose top-k must agree between systems


def make_corpus(n_docs: int, n_queries: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """``n_docs`` documents and ``n_queries`` queries with CUAD's word frequencies."""
    import numpy as np

    counts = Counter(w for line in SOURCE.read_text(encoding="utf-8").splitlines()
                     for w in re.findall(r"[a-z]+", json.loads(line)["text"].lower()))
    words = np.array(list(counts))
    p = np.array(list(counts.values()), dtype=np.float64)
    rng = np.random.default_rng(seed)
    lengths = rng.integers(40, 161, n_docs)
    drawn = rng.choice(words, size=int(lengths.sum()), p=p / p.sum())
    docs, start = [], 0
    for n in lengths:
        docs.append(" ".join(drawn[start:start + n]))
        start += n
    queries = []
    for d in rng.integers(0, n_docs, n_queries):
        doc_words = docs[d].split()
        queries.append(" ".join(rng.choice(doc_words, size=int(rng.integers(2, 7)), replace=False)))
    return docs, queries


def tokenize(texts: list[str], return_ids: bool = True):
    import bm25s
    import Stemmer

    return bm25s.tokenize(texts, stopwords="en", stemmer=Stemmer.Stemmer("english"), show_progress=False,
                          return_ids=return_ids)


def timed_queries(queries: list[str], search, rounds: int = 3) -> tuple[float, list[list[int]]]:
    """Queries/s of the best of ``rounds`` passes (the machine is shared) and the first results."""
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        results = [search(q) for q in queries]
        best = min(best, time.perf_counter() - t)
    return len(queries) / best, results[:CHECKED]


def peak_rss_mib() -> float:
    """This process's peak RSS since it started (VmHWM; ru_maxrss would count the forked parent's pages)."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def run_ragtune(docs: list[str], queries: list[str], work: Path) -> dict:
    import numpy as np

    from ragtune.documents.models import Chunk, Document, Page
    from ragtune.index.bm25 import BM25Index
    from ragtune.index.sqlite_store import SQLiteStore

    store = SQLiteStore(work / "index.db", "bm25-bench")
    per_doc = 1000  # store rows: one document per 1000 passages (the index sees passages, not documents)
    for g in range(0, len(docs), per_doc):
        texts = docs[g:g + per_doc]
        source = f"part{g // per_doc:04d}"
        chunks = [Chunk(id=str(g + i), doc_source=source, text=t, start=0, end=len(t), page=None, n_tokens=0)
                  for i, t in enumerate(texts)]
        store.replace_document(Document(source=source, title=source, sha256=source, pages=[Page(1, "x")]),
                               chunks, np.ones((len(texts), 1), dtype=np.float32))
    t = time.perf_counter()
    BM25Index(work / "bm25").sync(store)
    build = time.perf_counter() - t
    t = time.perf_counter()
    index = BM25Index(work / "bm25").sync(store)
    load = time.perf_counter() - t
    qps, top = timed_queries(queries, lambda q: [int(i) for i, _ in index.search(q, K)])
    allowed = {str(i) for i in range(0, len(docs), 10)}  # a filter that keeps 10% of the passages
    filtered_qps, _ = timed_queries(queries, lambda q: index.search(q, K, allowed))
    return {"build_s": build, "load_s": load, "qps": qps, "filtered_qps": filtered_qps, "top": top}


def run_bm25s(docs: list[str], queries: list[str], work: Path) -> dict:
    import bm25s

    t = time.perf_counter()
    retriever = bm25s.BM25()
    retriever.index(tokenize(docs), show_progress=False)
    build = time.perf_counter() - t

    def search(q: str) -> list[int]:
        ids, scores = retriever.retrieve(tokenize([q]), k=K, show_progress=False)
        return [int(i) for i, s in zip(ids[0], scores[0], strict=True) if s > 0]

    qps, top = timed_queries(queries, search)
    return {"build_s": build, "qps": qps, "top": top}


def run_rank_bm25(docs: list[str], queries: list[str], work: Path) -> dict:
    import numpy as np
    from rank_bm25 import BM25Okapi

    t = time.perf_counter()
    index = BM25Okapi(tokenize(docs, return_ids=False))
    build = time.perf_counter() - t

    def search(q: str) -> list[int]:
        scores = index.get_scores(tokenize([q], return_ids=False)[0])
        best = np.argsort(-scores, kind="stable")[:K]
        return [int(i) for i in best if scores[i] > 0]

    qps, top = timed_queries(queries, search)
    return {"build_s": build, "qps": qps, "top": top}


SYSTEMS = {"ragtune": run_ragtune, "bm25s": run_bm25s, "rank_bm25": run_rank_bm25}


def worker(system: str, data: Path, n_queries: int) -> None:
    payload = json.loads(data.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as work:
        out = SYSTEMS[system](payload["docs"], payload["queries"][:n_queries], Path(work))
    out["rss_mib"] = peak_rss_mib()
    print(json.dumps(out))


def spawn(system: str, data: Path, n_queries: int) -> dict:
    """Run one system in a subprocess; its result, with its own peak RSS (MiB)."""
    proc = subprocess.Popen([sys.executable, __file__, "--worker", system, "--data", str(data),
                             "--queries", str(n_queries)], stdout=subprocess.PIPE, text=True)
    out = proc.communicate()[0]
    if proc.returncode != 0:
        sys.exit(f"{system} failed (exit status {proc.returncode})")
    return json.loads(out.strip().splitlines()[-1])


def agreement(a: list[list[int]], b: list[list[int]]) -> float:
    """Mean overlap of two systems' top-k id sets over the checked queries (ties may order differently)."""
    return sum(len(set(x) & set(y)) / max(len(x), len(y), 1) for x, y in zip(a, b, strict=True)) / len(a)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=1000, help="queries for ragtune and bm25s")
    parser.add_argument("--rank-queries", type=int, default=100, help="queries for rank_bm25 (about 100x slower)")
    parser.add_argument("--worker", choices=SYSTEMS, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.data, args.queries)
        return
    try:
        import rank_bm25  # noqa: F401
    except ImportError:
        print("installing rank_bm25 (the baseline) ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "rank_bm25"], check=True)

    docs, queries = make_corpus(args.docs, max(args.queries, args.rank_queries))
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "corpus.json"
        data.write_text(json.dumps({"docs": docs, "queries": queries}), encoding="utf-8")
        results = {}
        for system, n in (("ragtune", args.queries), ("bm25s", args.queries), ("rank_bm25", args.rank_queries)):
            print(f"running {system} ...", file=sys.stderr, flush=True)
            results[system] = spawn(system, data, n)
    rag, raw, rank = results["ragtune"], results["bm25s"], results["rank_bm25"]
    print(f"{args.docs} documents ({sum(len(d.split()) for d in docs) / len(docs):.0f} words on average), "
          f"top-{K}, one query at a time (best of 3 passes), {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}\n")
    print("| system | build s | queries/s | peak RSS MiB |")
    print("|---|---:|---:|---:|")
    for name, r in results.items():
        print(f"| {name} | {r['build_s']:.2f} | {r['qps']:.0f} | {r['rss_mib']:.0f} |")
    print(f"\nragtune: index load {rag['load_s']:.2f} s; with a filter keeping 10% of the passages "
          f"{rag['filtered_qps']:.0f} queries/s")
    print(f"ragtune build includes reading the store and saving the index ({rag['build_s']:.2f} s vs "
          f"{raw['build_s']:.2f} s raw bm25s)")
    print(f"top-{K} agreement on {CHECKED} queries: ragtune/bm25s {agreement(rag['top'], raw['top']):.3f}, "
          f"bm25s/rank_bm25 {agreement(raw['top'], rank['top']):.3f}")
    print(f"\nqueries/s ratio ragtune / bm25s = {rag['qps'] / raw['qps']:.2f} (target >= 1)")
    print(f"queries/s ratio ragtune / rank_bm25 = {rag['qps'] / rank['qps']:.1f} (target > 10)")
    print(f"build time ratio rank_bm25 / ragtune = {rank['build_s'] / rag['build_s']:.2f}")


if __name__ == "__main__":
    main()
