"""Fine-tuned arms at their best: closed-book SFT, RAFT (gold passage among retrieved distractors, cited) and RAFT
with quote-then-answer targets (``raft.quote``), benchmarked against base and RAG on the demo's human-labelled
questions.

    python bench/raft_arms.py [--workdir bench/.work/raft] [--limit 60] [--distractors 2] [--epochs 1]

One project on the bundled corpus; the synthetic dataset (``datasets.synth.n`` = 160, as the demo) trains all three
versions, the human-labelled questions (src/ragtune/demo/questions.jsonl, each asked of its own contract) test
them, and the bench's overlap check runs. A rerun reuses the project, the dataset, the versions trained with the
same settings and the answers given. Prints the bench table (token F1, ROUGE-L recall, answer_check).
RAFT batches are 2 examples with 4 accumulation steps (8 per optimizer step, as the defaults): RAFT prompts of three
passages are ~900 tokens, and 8 of them in one padding-free batch took the process past 14 GB."""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parents[1]
VARIANTS = {"closed-book": {"rag": False}, "raft": {"rag": True}, "raft-quote": {"rag": True, "quote": True}}


def trained(project, name: str, distractors: int, epochs: float) -> str:
    """The id of the SFT version of ``VARIANTS[name]``, trained unless one with the same settings exists."""
    from ragtune.training.sft import LoRASFT

    variant = VARIANTS[name]
    base = project.config.training.sft
    config = type(base).model_validate(base.model_dump() | {
        "epochs": epochs, "rag": variant["rag"], "evaluate": False,
        **({"batch_size": 2, "grad_accum": 4} if variant["rag"] else {}),
        "raft": base.raft.model_dump() | {"distractors": distractors, "quote": variant.get("quote", False)}})
    wanted = config.model_dump(mode="json")
    for version in project.registry.list("sft"):
        if version.config.get("sft") == wanted:
            return version.id
    t0 = time.perf_counter()
    result = LoRASFT(project.training_resources, config).run()
    print(f"  {name}: {result.version.id} trained in {time.perf_counter() - t0:.0f} s", flush=True)
    return result.version.id


def main() -> None:
    from ragtune import Project
    from ragtune.demo import BENCH_QUESTIONS, CORPUS
    from ragtune.evaluation.bench import run_bench

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", type=Path, default=ROOT / "bench" / ".work" / "raft")
    ap.add_argument("--limit", type=int, default=60, help="First N human-labelled questions.")
    ap.add_argument("--distractors", type=int, default=2, help="raft.distractors of the RAFT versions.")
    ap.add_argument("--epochs", type=float, default=1.0)
    args = ap.parse_args()
    if not (args.workdir / "ragtune.yaml").exists():
        Project.init(args.workdir, name="raft-arms")
    project = Project(args.workdir)
    project.config.datasets.synth.n = 160
    project.config.bench.metrics = ["token_f1", "rouge_l_recall", "answer_check", "false_refusal"]
    project.config.bench.primary_metric = "token_f1"
    project.ingest([CORPUS])
    if not (project.workdir / "datasets" / "synth" / "card.json").is_file():
        t0 = time.perf_counter()
        report = project.synthesize(n=160)
        print(f"synthetic dataset: {report.counts} in {time.perf_counter() - t0:.0f} s", flush=True)
    versions = {name: trained(project, name, args.distractors, args.epochs) for name in VARIANTS}
    arms = ["base", "rag:extract", "rag:generate", f"sft:{versions['closed-book']}",
            f"rag+sft:{versions['closed-book']}", f"rag+sft:{versions['raft']}", f"rag+sft:{versions['raft-quote']}"]
    t0 = time.perf_counter()
    results = run_bench(project.bench_system, arms, BENCH_QUESTIONS, limit=args.limit, run="raft")
    print(f"bench: {len(arms)} arms x {results['n_questions']} questions in {time.perf_counter() - t0:.0f} s\n")
    names = {v: k for k, v in versions.items()}
    print("| arm | model | token F1 | ROUGE-L recall | answer_check | p50 s |\n|---|---|---|---|---|---:|")
    for arm in results["arms"]:
        version = arm["name"].split(":")[1] if arm["name"].startswith(("sft:", "rag+sft:")) else ""
        cells = [f"{m['mean']:.3f} [{m['ci_low']:.2f}, {m['ci_high']:.2f}]" if m["mean"] is not None else "-"
                 for m in (arm["metrics"][k] for k in ("token_f1", "rouge_l_recall", "answer_check"))]
        print(f"| {arm['name']} | {names.get(version, 'base')} | {' | '.join(cells)} | {arm['latency_s_p50']:.2f} |")
    (args.workdir / "results.json").write_text(json.dumps({"versions": versions, "arms": results["arms"]}, indent=1))
    project.close()


if __name__ == "__main__":
    main()
