"""Retrieval evaluation on the CUAD retrieval set (data/cuad_retrieval): the table in
docs/retrieval-evaluation.md.

    python bench/retrieval_eval.py                      # test split, every pipeline below
    python bench/retrieval_eval.py --split train --tune # the sweep the tuned settings were chosen from
    python bench/retrieval_eval.py --no-llm             # skip the LLM reranker (slow on a CPU)
    python bench/retrieval_eval.py --reranker DIR       # add a cross-encoder (e.g. one `ragtune tune` trained)

The corpus is indexed once (cached under $RAGTUNE_CACHE/beir/); every pipeline runs on the same index and
queries. Torch runs on one thread so that latencies are comparable on a shared machine.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "cuad_retrieval"

# Chosen on the train split (`--split train --tune`), never on test.
TUNED_HYBRID = {"name": "hybrid", "rrf_k": 10}
PIPELINES: dict[str, list] = {
    "bm25": ["bm25"],
    "dense": ["dense"],
    "hybrid": ["hybrid"],
    "hybrid (rrf_k=10)": [TUNED_HYBRID],
    "hybrid+dedupe": ["hybrid", "dedupe"],
    "hybrid+mmr": ["hybrid", {"name": "mmr", "lambda_": 0.7}],
    "hybrid+llm_rerank": ["hybrid", {"name": "llm_rerank", "candidates": 5}],
}
SWEEP: dict[str, list] = {
    "hybrid (bm25_weight=1, rrf_k=60)": ["hybrid"],  # the defaults; the sweep's baseline
    **{f"hybrid bm25_weight={w}": [{"name": "hybrid", "bm25_weight": w}] for w in (0.5, 1.5, 2.0)},
    **{f"hybrid rrf_k={k}": [{"name": "hybrid", "rrf_k": k}] for k in (5, 10, 30, 100)},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--split", default="test")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--llm", default="quality", help="LLM of llm_rerank: a profile (the 135M `fast` one "
                        "does not answer with a grade), GGUF file or model directory")
    parser.add_argument("--reranker", help="a cross-encoder (local path) to add hybrid+rerank")
    parser.add_argument("--no-llm", action="store_true", help="skip pipelines that call the LLM")
    parser.add_argument("--tune", action="store_true", help="run the hybrid sweep instead of the pipelines")
    args = parser.parse_args()

    from ragtune.config import ProjectConfig
    from ragtune.evaluation.retrieval import RetrievalEvaluation
    from ragtune.evaluation.stats import holm, paired_test

    pipelines = SWEEP if args.tune else {n: p for n, p in PIPELINES.items()
                                         if not (args.no_llm and "llm" in n)}
    if args.reranker and not args.tune:
        pipelines["hybrid+rerank"] = ["hybrid", {"name": "rerank", "model": args.reranker}]
    config = ProjectConfig.model_validate({"llm": {"model": args.llm}, "pipelines": pipelines})
    ev = RetrievalEvaluation(args.data, config, split=args.split, limit=args.limit)
    info = ev.index()
    results = []
    for name in pipelines:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        results.append(ev.run(name))
    ev.close()

    print(f"{args.data.name}, split {args.split}: {len(ev.dataset.queries)} queries, {info.documents} passages\n")
    print("| pipeline | nDCG@10 | Recall@10 | Recall@100 | MRR@10 | MAP | span P@4 | span R@4 | p50 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        m = r.metrics
        print(f"| {r.pipeline} | {m['ndcg@10']:.3f} | {m['recall@10']:.3f} | {m['recall@100']:.3f} | "
              f"{m['mrr@10']:.3f} | {m['map']:.3f} | {m.get('span_precision@4', 0):.3f} | "
              f"{m.get('span_recall@4', 0):.3f} | {r.latency_ms_p50:.1f} |")
    by_name = {r.pipeline: r for r in results}
    pairs = [(a, b) for a in by_name for b in by_name if (a == "hybrid" and b in ("bm25", "dense"))
             or (a.startswith("hybrid") and a != "hybrid" and b == "hybrid")]
    if args.tune:
        pairs = [(a, results[0].pipeline) for a in by_name if a != results[0].pipeline]
    tests = [paired_test("ndcg@10", a, b, *([by_name[n].per_query[q]["ndcg@10"] for q in ev.dataset.queries]
                                             for n in (a, b)), seed=0) for a, b in pairs]
    holm(tests, 0.05)
    print("\nPaired permutation tests on nDCG@10 (95% bootstrap CI of the difference, Holm-adjusted p):")
    for t in tests:
        print(f"- {t.a} vs {t.b}: {t.diff:+.3f} [{t.ci_low:+.3f}, {t.ci_high:+.3f}], p = {t.p_holm:.3g}")
    if {"bm25", "dense", "hybrid"} <= by_name.keys():
        h, b, d = (by_name[n].metrics["ndcg@10"] for n in ("hybrid", "bm25", "dense"))
        print(f"\nhybrid / bm25 nDCG@10 = {h / b:.3f}; hybrid / dense = {h / d:.3f}")


if __name__ == "__main__":
    main()
