"""Retrieval evaluation on the CUAD retrieval set (data/cuad_retrieval): the tables in
docs/retrieval-evaluation.md.

    python bench/retrieval_eval.py                      # test split, every pipeline below
    python bench/retrieval_eval.py --split train --tune # the sweep the tuned settings were chosen from
    python bench/retrieval_eval.py --no-llm             # skip the LLM reranker (slow on a CPU)
    python bench/retrieval_eval.py --no-llm --train     # first train an embedder and a reranker on the TRAIN
                                                        # split, then add their rows (test split)
    python bench/retrieval_eval.py --embedder v1 --reranker v2 --project DIR  # versions trained before
    python bench/retrieval_eval.py --no-llm --precision float32  # embedder.precision (default auto)

The corpus is indexed once per embedder (cached under $RAGTUNE_CACHE/beir/); every pipeline runs on the same
queries. Trained versions live in the model registry of --project (default $RAGTUNE_CACHE/retrieval-tuning);
the script checks that no evaluated question was a training question. Torch runs on one thread while
evaluating so that latencies are comparable on a shared machine (training uses the cores available).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

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


def train(project: Path, data: Path, epochs: float | None, max_steps: int | None) -> tuple[str, str]:
    """Train an embedder and a reranker on the train split of ``data``; returns their version ids."""
    from ragtune.project import Project
    from ragtune.training.embedder import EmbedderTuner
    from ragtune.training.reranker import RerankerTuner

    proj = Project(project) if (project / "ragtune.yaml").is_file() else Project.init(project, name="retrieval-tuning")
    ids = []
    for tuner in (EmbedderTuner, RerankerTuner):
        config = getattr(proj.config.training, tuner.kind)
        update = {"dataset": str(data), "epochs": epochs or config.epochs, "max_steps": max_steps}
        print(f"training the {tuner.kind} ...", file=sys.stderr, flush=True)
        result = tuner(proj, config.model_copy(update=update)).run()
        print(f"{result.version.id} ({tuner.kind}): {result.train}", file=sys.stderr, flush=True)
        ids.append(result.version.id)
    return ids[0], ids[1]


def check_leakage(project: Path, versions: list[tuple[str, str]], queries: dict[str, str]) -> None:
    """Stop when a (version, kind) was trained on a question of the evaluated split (by id or text)."""
    from ragtune.model_registry import ModelRegistry

    registry = ModelRegistry(project / ".ragtune")
    for ref, kind in versions:
        folder = registry.folder(registry.resolve(ref, kind))
        trained = json.loads((folder / "train_queries.json").read_text(encoding="utf-8"))["queries"]
        texts = {t.strip().lower() for t in trained.values()}
        leaked = [q for q, t in queries.items() if q in trained or t.strip().lower() in texts]
        if leaked:
            sys.exit(f"{ref} was trained on {len(leaked)} evaluated question(s), e.g. {leaked[0]}")
        print(f"{ref}: none of the {len(queries)} evaluated questions among its {len(trained)} training questions",
              file=sys.stderr)


def evaluate(args, pipelines: dict[str, list], embedder: str | None, project: Path):
    from ragtune.project import ProjectConfig, retrieval_evaluation

    settings = {"llm": {"model": args.llm}, "pipelines": pipelines, "embedder": {"precision": args.precision}}
    if embedder:
        settings["embedder"]["model"] = embedder
    config = ProjectConfig.model_validate(settings)
    ev = retrieval_evaluation(args.data, config, project / ".ragtune", split=args.split, limit=args.limit)
    info = ev.index()
    results = []
    for name in pipelines:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        results.append(ev.run(name))
    ev.close()
    return ev, info, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--split", default="test")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--llm", default="quality", help="LLM of llm_rerank: a profile (the 135M `fast` one "
                        "does not answer with a grade), GGUF file or model directory")
    parser.add_argument("--project", type=Path, help="project whose model registry holds the trained versions "
                        "(default: $RAGTUNE_CACHE/retrieval-tuning)")
    parser.add_argument("--train", action="store_true", help="train an embedder and a reranker on the train split "
                        "of --data first, and evaluate them")
    parser.add_argument("--epochs", type=float, help="with --train: epochs (default: training.embedder/reranker)")
    parser.add_argument("--max-steps", type=int, help="with --train: stop each training after N steps")
    parser.add_argument("--embedder", help="an adapted embedder (version id or champion): adds its dense and "
                        "hybrid rows")
    parser.add_argument("--reranker", help="a cross-encoder (version id, champion or folder): adds hybrid+rerank")
    parser.add_argument("--no-llm", action="store_true", help="skip pipelines that call the LLM")
    parser.add_argument("--precision", default="auto", choices=["auto", "float32", "bfloat16"],
                        help="embedder.precision (docs/performance.md)")
    parser.add_argument("--tune", action="store_true", help="run the hybrid sweep instead of the pipelines")
    args = parser.parse_args()

    from ragtune.evaluation.stats import holm, paired_test
    from ragtune.generation.profiles import cache_dir
    from ragtune.model_registry import is_version_ref

    project = (args.project or cache_dir() / "retrieval-tuning").resolve()
    if args.train:
        args.embedder, args.reranker = train(project, args.data, args.epochs, args.max_steps)
    os.environ["OMP_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)
    pipelines = SWEEP if args.tune else {n: p for n, p in PIPELINES.items() if not (args.no_llm and "llm" in n)}
    rerank = {"name": "rerank", "model": args.reranker}
    if args.reranker and not args.tune:
        pipelines[f"hybrid+rerank ({args.reranker})"] = ["hybrid", rerank]
        pipelines[f"hybrid (rrf_k=10)+rerank ({args.reranker})"] = [TUNED_HYBRID, rerank]
    ev, info, results = evaluate(args, pipelines, None, project)
    if args.embedder and not args.tune:
        adapted = {f"dense ({args.embedder})": ["dense"], f"hybrid ({args.embedder})": ["hybrid"],
                   f"hybrid (rrf_k=10, {args.embedder})": [TUNED_HYBRID]}
        if args.reranker:
            adapted[f"hybrid ({args.embedder})+rerank ({args.reranker})"] = ["hybrid", rerank]
            adapted[f"hybrid (rrf_k=10, {args.embedder})+rerank ({args.reranker})"] = [TUNED_HYBRID, rerank]
        results += evaluate(args, adapted, args.embedder, project)[2]
    trained = [(v, kind) for v, kind in ((args.embedder, "embedder"), (args.reranker, "reranker"))
               if v and is_version_ref(v)]
    if trained:
        check_leakage(project, trained, ev.dataset.queries)

    print(f"{args.data.name}, split {args.split}: {len(ev.dataset.queries)} queries, {info.documents} passages\n")
    print("| pipeline | nDCG@10 | Recall@10 | Recall@100 | MRR@10 | MAP | span P@4 | span R@4 | p50 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        m = r.metrics
        print(f"| {r.pipeline} | {m['ndcg@10']:.3f} | {m['recall@10']:.3f} | {m['recall@100']:.3f} | "
              f"{m['mrr@10']:.3f} | {m['map']:.3f} | {m.get('span_precision@4', 0):.3f} | "
              f"{m.get('span_recall@4', 0):.3f} | {r.latency_ms_p50:.1f} |")
    by_name = {r.pipeline: r for r in results}
    if args.tune:
        pairs = [(a, results[0].pipeline) for a in by_name if a != results[0].pipeline]
    else:
        pairs = [(a, b) for a in by_name for b in by_name if (a == "hybrid" and b in ("bm25", "dense"))
                 or (a.startswith("hybrid") and "(" not in a and a != "hybrid" and b == "hybrid")]
        e, r = args.embedder, args.reranker
        wanted = [(f"dense ({e})", "dense"), (f"hybrid ({e})", "hybrid"), (f"hybrid+rerank ({r})", "hybrid"),
                  (f"hybrid (rrf_k=10)+rerank ({r})", "hybrid (rrf_k=10)"),
                  (f"hybrid ({e})+rerank ({r})", f"hybrid ({e})"),
                  (f"hybrid (rrf_k=10, {e})+rerank ({r})", "hybrid (rrf_k=10)")]
        pairs += [(a, b) for a, b in wanted if a in by_name and b in by_name]
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
