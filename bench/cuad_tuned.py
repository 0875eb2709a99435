"""The `rag+tuned` bench arm on cuad_dev, leave one contract out: is the tuned reader worth its training?

    python bench/cuad_tuned.py [--data ../shared/data/cuad_dev] [--workdir bench/.work/cuad_tuned] [--scorer]
                               [--folds N]

The contracts project of `bench/answer_strategies.py` (``ragtune init --domain contracts``, fast profile) and its
495 Yes/No questions (``cuad_questions(..., yes_no=True)``, 33 per contract, 118 Yes). For each of the 15 contracts,
in a model registry of its own: the verdict model is trained (``VerdictTuner``, the model ``tune reader`` trains,
its threshold cross-validated) on the Yes/No labels of the other 14 contracts only and promoted; with ``--scorer``
the answer-sentence scorer too (``tune reader``'s cross-encoder, ``training.reranker`` settings, on the gold clause
sentences of the 14). Then ``run_bench`` answers that contract's questions with ``rag`` and ``rag+tuned`` (the
champions as ``answer.verdicts`` / ``answer.scorer``). At the end, over all 495 questions: per arm the mean of
``answer_check`` (a right Yes/No, the bench's yes/no accuracy), balanced accuracy and token F1 (against the gold
clause, or "No"), and the paired test of rag+tuned - rag (bootstrap interval, sign-flip p) on each, with the
training cost. ``--folds N`` holds out only the first N contracts (by name) in turn. Answers are kept in --workdir,
so a rerun resumes."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
from answer_strategies import balanced_accuracy, project_for, question_sets  # noqa: E402  (a sibling bench script)

METRICS = ["answer_check", "token_f1"]


def train_reader(project, labels: Path, scorer: bool) -> dict[str, float]:
    """The reader models trained on ``labels`` and promoted in ``project``'s registry; their training seconds."""
    from ragtune.training.verdicts import VerdictTuner

    config = project.config.training.verdicts.model_copy(update={"questions": str(labels)})
    version = VerdictTuner(project.training_resources, config).run().version
    project.registry.promote(version.id)
    seconds = {"verdicts": float(version.metrics["seconds"])}
    if scorer:
        seconds["scorer"] = train_scorer(project, labels)
    return seconds


def train_scorer(project, labels: Path) -> float:
    """``tune reader``'s answer-sentence scorer on the clause sentences of every document of ``labels``."""
    import tempfile

    from ragtune.training.reader import SentenceScorerTuner, gold_sentences, write_sentence_pairs
    from ragtune.training.verdicts import load_labels

    data = load_labels(labels, project.store)
    with tempfile.TemporaryDirectory(dir=project.workdir) as tmp:
        folder = write_sentence_pairs(Path(tmp) / "sentences", data, gold_sentences(data, labels),
                                      set(range(len(data.names))))
        config = project.config.training.reranker.model_copy(update={"dataset": str(folder), "evaluate": False})
        trained = SentenceScorerTuner(project.training_resources, config).run()
    project.registry.promote(trained.version.id)
    return float(trained.train["seconds"])


def main() -> None:
    from ragtune import Project
    from ragtune.evaluation.bench import run_bench
    from ragtune.evaluation.stats import paired_test

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "cuad_dev")
    ap.add_argument("--workdir", type=Path, default=ROOT / "bench" / ".work" / "cuad_tuned")
    ap.add_argument("--scorer", action="store_true", help="also train the answer-sentence scorer (slower)")
    ap.add_argument("--folds", type=int, default=15, help="hold out the first N contracts (by name) in turn")
    args = ap.parse_args()
    rows = question_sets(args.data)["yes_no"]
    base = project_for(args.workdir, args.data, "fast")
    folder = base.root
    base.close()
    started = time.perf_counter()
    per_question: list[dict] = []
    training: list[dict[str, float]] = []
    contracts = sorted({r["document"] for r in rows})[: args.folds]
    for i, contract in enumerate(contracts):
        fold = args.workdir / "folds" / f"{i:02d}"
        fold.mkdir(parents=True, exist_ok=True)
        project = Project(folder, registry_dir=fold)  # a registry per fold: its champions saw only the other 14
        project.config.bench.metrics = METRICS
        project.config.bench.primary_metric = "answer_check"
        labels, questions = fold / "labels.jsonl", fold / "questions.jsonl"
        labels.write_text("".join(json.dumps(r) + "\n" for r in rows if r["document"] != contract), encoding="utf-8")
        questions.write_text("".join(json.dumps(r) + "\n" for r in rows if r["document"] == contract),
                             encoding="utf-8")
        kinds = ("verdicts", "scorer") if args.scorer else ("verdicts",)
        champions = {k: v for k in kinds if (v := project.registry.champion(k)) is not None}
        if len(champions) < len(kinds):
            training.append(train_reader(project, labels, args.scorer))
        else:  # trained by an earlier run
            training.append({k: float(v.metrics["seconds"]) for k, v in champions.items()})
        results = run_bench(project.bench_system, ["rag", "rag+tuned"], questions, run=f"loo-{i:02d}")
        per_question.extend(results["per_question"])
        right = {a["name"]: a["metrics"]["answer_check"]["mean"] for a in results["arms"]}
        print(f"{contract[:60]}: answer_check rag {right['rag']:.3f}, rag+tuned {right['rag+tuned']:.3f}; "
              f"training {sum(training[-1].values()):.1f} s", flush=True)
        project.close()
    labels_of = {r["id"]: r["label"] for r in rows if r["document"] in contracts}
    results = {"per_question": per_question}
    n_yes = sum(v == "Yes" for v in labels_of.values())
    print(f"\n{len(per_question)} Yes/No questions ({n_yes} Yes) of {len(contracts)} held-out contracts, each "
          f"answered with a reader trained on the other 14; "
          f"{time.perf_counter() - started:.0f} s in all\n")
    print("| arm | answer_check (yes/no accuracy) | balanced accuracy | token F1 |\n|---|---:|---:|---:|")
    for arm in ("rag", "rag+tuned"):
        means = [statistics.fmean(q["arms"][arm]["scores"][m] for q in per_question) for m in METRICS]
        print(f"| {arm} | {means[0]:.3f} | {balanced_accuracy(results, arm, labels_of):.3f} | {means[1]:.3f} |")
    print("\n| rag+tuned - rag | difference | 95% paired bootstrap | p (sign-flip) |\n|---|---:|---|---:|")
    for m in METRICS:
        t = paired_test(m, "rag+tuned", "rag", [q["arms"]["rag+tuned"]["scores"][m] for q in per_question],
                        [q["arms"]["rag"]["scores"][m] for q in per_question], seed=0)
        print(f"| {m} | {t.diff:+.3f} | [{t.ci_low:+.3f}, {t.ci_high:+.3f}] | {t.p_value:.2g} |")
    print(f"| balanced accuracy | {balanced_difference(per_question, labels_of)} | | |")
    for kind in training[0]:
        spent = [t[kind] for t in training]
        print(f"\ntraining {kind}: {statistics.median(spent):.1f} s per contract (median), {sum(spent):.0f} s in all")


def balanced_difference(per_question: list[dict], labels: dict[str, str], samples: int = 2000) -> str:
    """Balanced accuracy of rag+tuned - rag with a 95% paired bootstrap interval over questions."""
    import numpy as np

    yes = np.array([labels[q["id"]] == "Yes" for q in per_question])
    right = {arm: np.array([q["arms"][arm]["scores"]["answer_check"] for q in per_question])
             for arm in ("rag", "rag+tuned")}

    def gain(idx: np.ndarray) -> float:
        y = yes[idx]
        return float(np.mean([(right["rag+tuned"][idx][s] - right["rag"][idx][s]).mean() for s in (y, ~y)]))

    rng = np.random.default_rng(0)
    draws = [gain(rng.integers(0, len(yes), len(yes))) for _ in range(samples)]
    return f"{gain(np.arange(len(yes))):+.3f} [{np.percentile(draws, 2.5):+.3f}, {np.percentile(draws, 97.5):+.3f}]"


if __name__ == "__main__":
    main()
