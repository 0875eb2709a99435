"""Yes/no verdicts on cuad_dev: how well sentence scores separate "Yes" (the contract has the clause) from "No",
with and without labelled examples from other contracts.

    python bench/yes_no_scorers.py [--data ../shared/data/cuad_dev]

Every sentence of each contract is scored (an upper bound on what retrieval then selection can find), and a
question's score is its best sentence's. Scorers:
- question: the cosine of the question (what the contracts pack's ``yes_threshold`` thresholds today);
- exemplars: the question's cosine mixed with the best cosine to the gold clauses that other contracts' labels give
  for the same question (``alpha`` weights them), as a reviewer's past answers would.
Thresholds are chosen leave-one-contract-out (the contract answered never chose its threshold or gave exemplars),
so the balanced accuracy is what a new contract would get; AUC needs no threshold. Answering "No" to all: 0.5."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]


def best_threshold(scores: np.ndarray, yes: np.ndarray) -> float:
    from ragtune.training.verdicts import balanced_accuracy

    return max(np.unique(scores), key=lambda t: balanced_accuracy(scores >= t, yes))


def main() -> None:
    from ragtune.config import EmbedderConfig
    from ragtune.documents.chunkers.base import sentences
    from ragtune.index.embedder import Embedder
    from ragtune.training.verdicts import auc, balanced_accuracy

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "cuad_dev")
    args = ap.parse_args()
    rows = [json.loads(line) for line in (args.data / "qa.jsonl").open(encoding="utf-8")]
    questions = [r for r in rows if r["answer"] in ("Yes", "No")]
    embedder = Embedder(EmbedderConfig())
    vectors = {}
    for name in sorted({r["contract_file"] for r in questions}):
        text = (args.data / name).read_text(encoding="utf-8")
        found = [" ".join(text[a:b].split())[:600] for a, b in sentences(text, (0, len(text)))]
        vectors[name] = embedder.embed([s for s in found if len(s.split()) >= 3])
    gold = {(r["contract_file"], r["category"]): embedder.embed([" ".join(c.split())[:600] for c in r["clauses"]])
            for r in rows if r["clauses"]}
    texts = sorted({r["question"] for r in questions})
    asked = dict(zip(texts, embedder.embed(texts), strict=True))
    yes = np.array([r["answer"] == "Yes" for r in questions])
    contracts = np.array([r["contract_file"] for r in questions])

    def score(r: dict, alpha: float, exclude: set[str]) -> float:
        sentences = vectors[r["contract_file"]]
        own = float((sentences @ asked[r["question"]]).max())
        examples = [g for (c, cat), g in gold.items() if cat == r["category"] and c not in exclude]
        if not alpha or not examples:
            return own
        return (own + alpha * float((sentences @ np.vstack(examples).T).max())) / (1 + alpha)

    print(f"{len(questions)} yes/no questions ({yes.sum()} Yes) on {len(vectors)} contracts\n")
    print("| scorer | AUC | balanced accuracy (leave one contract out) |\n|---|---:|---:|")
    for label, alpha in (("question", 0.0), ("question + exemplars, alpha 0.5", 0.5),
                         ("question + exemplars, alpha 2", 2.0), ("exemplars only", 100.0)):
        said_yes, held_out = np.zeros(len(questions), bool), np.zeros(len(questions))
        for contract in sorted(set(contracts)):
            test = contracts == contract
            train = [score(r, alpha, {contract, r["contract_file"]}) for r, t in zip(questions, test, strict=True)
                     if not t]
            threshold = best_threshold(np.array(train), yes[~test])
            held_out[test] = [score(r, alpha, {contract}) for r, t in zip(questions, test, strict=True) if t]
            said_yes[test] = held_out[test] >= threshold
        print(f"| {label} | {auc(held_out, yes):.3f} | {balanced_accuracy(said_yes, yes):.3f} |")


if __name__ == "__main__":
    main()
