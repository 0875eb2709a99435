"""Trained yes/no verdicts (``ragtune tune verdicts``) on cuad_dev, leave one contract out, through the product path.

    python bench/verdicts.py [--data ../shared/data/cuad_dev] [--workdir bench/.work/verdicts]

For each of the 15 contracts, a verdict model is trained (``VerdictTuner``, with its own cross-validated threshold)
on the Yes/No labels of the other 14, and that contract's Yes/No questions are asked with ``Project.ask`` (default
pipeline, ``extract``, its document alone) with ``answer.verdicts`` set to it, and again without it (the sentence
scorer's cosine and ``answer.yes_threshold``: the baseline, in the same run). So every verdict is what a new
contract would get. Prints balanced accuracy (answering "No" to all: 0.5), the Yes and No recalls and the answer
latency p50 of both."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    from ragtune import Project
    from ragtune.datasets.cuad import cuad_questions
    from ragtune.generation.answer_forms import parse_yes_no
    from ragtune.index.store import glob_escape
    from ragtune.training.verdicts import VerdictTuner, balanced_accuracy

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "cuad_dev")
    ap.add_argument("--workdir", type=Path, default=ROOT / "bench" / ".work" / "verdicts")
    args = ap.parse_args()
    rows = [q for q in cuad_questions(args.data, yes_no=True) if q["label"] in ("Yes", "No")]
    folder = args.workdir / "project"
    if not (folder / "ragtune.yaml").exists():
        Project.init(folder, name="cuad_dev-verdicts", domain="contracts")
    Project(folder).ingest([args.data / "contracts"])
    import numpy as np

    yes = np.array([r["label"] == "Yes" for r in rows])
    said = {"verdicts": np.zeros(len(rows), bool), "yes_threshold": np.zeros(len(rows), bool)}
    seconds: dict[str, list[float]] = {"verdicts": [], "yes_threshold": []}
    training = []
    for contract in sorted({r["document"] for r in rows}):
        labels = args.workdir / "labels.jsonl"
        labels.write_text("".join(json.dumps(r) + "\n" for r in rows if r["document"] != contract), encoding="utf-8")
        project = Project(folder)
        t0 = time.perf_counter()
        result = VerdictTuner(project.training_resources, project.config.training.verdicts.model_copy(
            update={"questions": str(labels)})).run()
        training.append(time.perf_counter() - t0)
        for arm, ref in (("verdicts", result.version.id), ("yes_threshold", None)):
            project = Project(folder)
            project.config.answer.verdicts = ref
            for i, r in enumerate(rows):
                if r["document"] == contract:
                    a = project.ask(r["question"], filters={"source": f"*{glob_escape(contract)}"})
                    said[arm][i] = bool(parse_yes_no(a.answer))
                    seconds[arm].append(a.latency_s)
            project.close()
        held = np.array([r["document"] == contract for r in rows])
        print(f"{contract[:60]}: verdicts {int((said['verdicts'][held] == yes[held]).sum())}/{held.sum()} right, "
              f"yes_threshold {int((said['yes_threshold'][held] == yes[held]).sum())}/{held.sum()}", flush=True)
    print(f"\n{len(rows)} Yes/No questions ({yes.sum()} Yes) on 15 contracts, each contract's verdicts from a model "
          f"trained on the other 14 (training {statistics.median(training):.1f} s each, median)\n")
    rng = np.random.default_rng(0)
    draws = [rng.integers(0, len(rows), len(rows)) for _ in range(2000)]

    def interval(values: list[float]) -> str:
        return f"[{np.percentile(values, 2.5):.3f}, {np.percentile(values, 97.5):.3f}]"

    boot = {arm: [balanced_accuracy(said[arm][d], yes[d]) for d in draws] for arm in said}
    print("| yes/no answers | balanced accuracy (95% bootstrap) | Yes recall | No recall | p50 answer latency |")
    print("|---|---:|---:|---:|---:|")
    for arm in ("yes_threshold", "verdicts"):
        s = said[arm]
        print(f"| {arm} | {balanced_accuracy(s, yes):.3f} {interval(boot[arm])} | {s[yes].mean():.3f} | "
              f"{(~s[~yes]).mean():.3f} | {statistics.median(seconds[arm]):.2f} s |")
    gain = [v - b for v, b in zip(boot["verdicts"], boot["yes_threshold"], strict=True)]
    diff = balanced_accuracy(said["verdicts"], yes) - balanced_accuracy(said["yes_threshold"], yes)
    print(f"\nverdicts - yes_threshold: {diff:+.3f} {interval(gain)} (paired bootstrap over questions)")
    (args.workdir / "results.json").write_text(json.dumps(
        {"questions": [r["id"] for r in rows], "yes": yes.tolist(), **{a: s.tolist() for a, s in said.items()}}),
        encoding="utf-8")


if __name__ == "__main__":
    main()
