"""The extract strategy's sentence scorer trained on human labels: `tune reranker` on CUAD's train contracts
(data/cuad_retrieval, qrels/train.tsv: 10 contracts), then `rag:extract` on the clause questions of the 5 test
contracts with ``answer.scorer`` = the embedder (the default) and = that cross-encoder, in the same run.

    python bench/answer_scorer.py [--data ../shared/data/cuad_dev] [--workdir bench/.work/answer_scorer]

Prints token F1, ROUGE-L recall and answer_check with 95% bootstrap intervals, the paired difference and the
answer latency p50 of both."""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
BEIR = ROOT / "data" / "cuad_retrieval"
METRICS = ["token_f1", "rouge_l_recall", "answer_check"]


def main() -> None:
    import numpy as np

    from ragtune import Project
    from ragtune.datasets.cuad import cuad_questions
    from ragtune.evaluation.bench import run_bench
    from ragtune.training.reranker import RerankerTuner

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "cuad_dev")
    ap.add_argument("--workdir", type=Path, default=ROOT / "bench" / ".work" / "answer_scorer")
    args = ap.parse_args()
    docs = [json.loads(line) for line in (BEIR / "documents.jsonl").open(encoding="utf-8")]
    test = {d["contract"] for d in docs if d["split"] == "test"}
    questions = cuad_questions(args.data, contracts=test)
    folder = args.workdir / "project"
    if not (folder / "ragtune.yaml").exists():
        Project.init(folder, name="cuad_dev-scorer", domain="contracts")
    project = Project(folder)
    project.ingest([args.data / "contracts"])
    trained = [v for v in project.registry.list("reranker") if v.config.get("dataset_dir") == str(BEIR)]
    if trained:
        version = trained[-1]
    else:
        t0 = time.perf_counter()
        result = RerankerTuner(project.training_resources, project.config.training.reranker.model_copy(
            update={"dataset": str(BEIR)})).run()
        version = result.version
        print(f"tune reranker on {result.data['train_pairs']} human-labelled pairs of {result.data['train_queries']} "
              f"questions: {time.perf_counter() - t0:.0f} s; {result.evaluation}", flush=True)
    path = args.workdir / "questions.jsonl"
    path.write_text("".join(json.dumps(q) + "\n" for q in questions), encoding="utf-8")
    scores, latency = {}, {}
    for scorer in ("embedder", version.id):
        project = Project(folder)
        project.config.answer.scorer = scorer
        project.config.bench.metrics = METRICS
        project.config.bench.primary_metric = "token_f1"
        results = run_bench(project.bench_system, ["rag:extract"], path, run=f"scorer-{scorer}")
        per = results["per_question"]
        scores[scorer] = {m: np.array([q["arms"]["rag:extract"]["scores"][m] for q in per]) for m in METRICS}
        latency[scorer] = float(np.median([q["arms"]["rag:extract"]["latency_s"] for q in per]))
        project.close()
    rng = np.random.default_rng(0)
    draws = [rng.integers(0, len(questions), len(questions)) for _ in range(2000)]
    print(f"\n{len(questions)} clause questions of the {len(test)} test contracts, rag:extract, fast profile\n")
    print("| answer.scorer | " + " | ".join(METRICS) + " | p50 latency |\n|---|" + "---:|" * (len(METRICS) + 1))
    for scorer, s in scores.items():
        cells = [f"{s[m].mean():.3f} [{np.percentile([s[m][d].mean() for d in draws], 2.5):.2f}, "
                 f"{np.percentile([s[m][d].mean() for d in draws], 97.5):.2f}]" for m in METRICS]
        print(f"| {scorer} | " + " | ".join(cells) + f" | {latency[scorer]:.2f} s |")
    a, b = scores["embedder"], scores[version.id]
    for m in METRICS:
        diff = b[m] - a[m]
        boot = [diff[d].mean() for d in draws]
        print(f"{version.id} - embedder, {m}: {diff.mean():+.3f} [{np.percentile(boot, 2.5):+.3f}, "
              f"{np.percentile(boot, 97.5):+.3f}]")


if __name__ == "__main__":
    main()
