"""Answer strategies on cuad_dev: extract, extract+generate and generate, and the closed-book base arm, with the
fast and quality profiles, each question asked of its own contract.

    python bench/answer_strategies.py [--data ../shared/data/cuad_dev] [--profiles fast,quality] [--limit N]
                                      [--strategies extract,generate] [--sets clause,yes_no] [--no-base]
                                      [--pack contracts|generic]

Two question sets, as the KDD 2024 tutorial scores CUAD:
- clause questions (the 216 rows with a gold clause): the reference is the gold clause text; token F1, ROUGE-L
  recall and ROUGE-L, with bootstrap intervals, and the deterministic ``answer_check`` against CUAD's answer.
- yes/no questions (all Yes/No rows, with and without a clause): balanced accuracy of the Yes/No verdict
  (``answer_check``), which answering "No" to all scores 0.5.
Prints one table per set; the project and its answers are kept in --workdir, so a rerun resumes."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STRATEGIES = ["extract", "extract+generate", "generate"]
METRICS = ["token_f1", "rouge_l_recall", "rouge_l", "answer_check", "false_refusal"]


def question_sets(data: Path) -> dict[str, list[dict]]:
    from ragtune.datasets.cuad import cuad_questions

    return {"clause": cuad_questions(data),
            "yes_no": [q for q in cuad_questions(data, yes_no=True) if q["label"] in ("Yes", "No")]}


def project_for(workdir: Path, data: Path, profile: str, pack: str = "contracts"):
    """The cuad_dev project of ``profile`` with the answer pack ``pack`` and its pipeline (``ragtune init
    --domain``), ingested."""
    from ragtune import Project

    folder = workdir / f"{profile}-{pack}"
    if not (folder / "ragtune.yaml").exists():
        Project.init(folder, name=f"cuad_dev-{profile}", domain=pack)
    project = Project(folder)
    project.config.llm.model = profile
    project.config.bench.metrics = METRICS
    project.config.bench.primary_metric = "token_f1"
    t0 = time.perf_counter()
    report = project.ingest([data / "contracts"])
    print(f"[{profile}] ingest: {report.chunks_added} chunks added in {time.perf_counter() - t0:.1f} s", flush=True)
    return project


def balanced_accuracy(results: dict, arm: str, labels: dict[str, str]) -> float | None:
    """Mean of the share of Yes questions answered Yes and the share of No questions answered No."""
    right: dict[str, list[float]] = {"Yes": [], "No": []}
    for q in results["per_question"]:
        right[labels[q["id"]]].append(q["arms"][arm]["scores"]["answer_check"])
    if not right["Yes"] or not right["No"]:
        return None
    return (sum(right["Yes"]) / len(right["Yes"]) + sum(right["No"]) / len(right["No"])) / 2


def run(project, name: str, questions: list[dict], arms: list[str], limit: int | None) -> dict:
    from ragtune.evaluation.bench import run_bench

    path = project.workdir / f"{name}.jsonl"
    path.write_text("".join(json.dumps(q) + "\n" for q in questions), encoding="utf-8")
    t0 = time.perf_counter()
    results = run_bench(project.bench_system, arms, path, limit=limit, run=name)
    print(f"  {name}: {len(arms)} arms x {results['n_questions']} questions in {time.perf_counter() - t0:.0f} s",
          flush=True)
    return results


def fmt(m: dict) -> str:
    return "-" if m["mean"] is None else f"{m['mean']:.3f} [{m['ci_low']:.2f},{m['ci_high']:.2f}]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "cuad_dev")
    ap.add_argument("--workdir", type=Path, default=ROOT / "bench" / ".work" / "answer_strategies")
    ap.add_argument("--profiles", default="fast,quality")
    ap.add_argument("--strategies", default=",".join(STRATEGIES))
    ap.add_argument("--limit", type=int, default=None, help="First N questions of each set.")
    ap.add_argument("--sets", default="clause,yes_no")
    ap.add_argument("--no-base", action="store_true", help="Leave out the closed-book base arm.")
    ap.add_argument("--pack", default="contracts", help="The answer pack (answer.pack) and its pipeline.")
    args = ap.parse_args()
    if not (args.data / "qa.jsonl").is_file():
        sys.exit(f"{args.data}: no qa.jsonl (give --data, a cuad_dev folder)")
    sets = question_sets(args.data)
    arms = ([] if args.no_base else ["base"]) + [f"rag:{s}" for s in args.strategies.split(",")]
    rows = []
    for profile in args.profiles.split(","):
        project = project_for(args.workdir, args.data, profile, args.pack)
        for name in args.sets.split(","):
            results = run(project, name, sets[name], arms, args.limit)
            labels = {q["id"]: q["label"] for q in sets[name]}
            for arm in results["arms"]:
                rows.append({"profile": profile, "set": name, "arm": arm["name"], "n": arm["n_questions"],
                             "metrics": arm["metrics"], "p50": arm["latency_s_p50"],
                             "prompt_tokens": arm["tokens"]["prompt_mean"],
                             "balanced_accuracy": balanced_accuracy(results, arm["name"], labels) if name == "yes_no"
                             else None})
        project.close()
    out = args.workdir / "results.json"
    out.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    print("\n| profile | set | arm | n | token F1 | ROUGE-L recall | ROUGE-L | answer_check | balanced acc. | "
          "refused | p50 s | prompt tok |")
    print("|---|---|---|---:|---|---|---|---|---:|---:|---:|---:|")
    for r in rows:
        m = r["metrics"]
        ba = "-" if r["balanced_accuracy"] is None else f"{r['balanced_accuracy']:.3f}"
        print(f"| {r['profile']} | {r['set']} | {r['arm']} | {r['n']} | {fmt(m['token_f1'])} | "
              f"{fmt(m['rouge_l_recall'])} | {fmt(m['rouge_l'])} | {fmt(m['answer_check'])} | {ba} | "
              f"{m['false_refusal']['mean'] or 0:.2f} | {r['p50']:.2f} | {r['prompt_tokens']:.0f} |")
    print(f"\nresults: {out}")


if __name__ == "__main__":
    main()
