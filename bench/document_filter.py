"""When ``document_filter`` should narrow retrieval to one document: its decisions on questions that name a
contract, the same questions without the name, and questions of another domain, for a grid of ``min_share`` (the
share of a document's name the question must match).

    python bench/document_filter.py --project bench/.work/answer_strategies/fast-contracts

The project is any ingested cuad_dev project (its stored documents are what the filter matches). Positives: the
212 questions of data/cuad_retrieval, each naming its contract ("Consider the Collaboration Agreement between
Anixa Biosciences, Inc. and OntoChem GmbH; What is ..."); a pick is right when it is that contract. Negatives: the
same questions without the naming prefix (CUAD's category question, which names no contract) and the 81
financebench_dev questions (filings, not in the store): any pick there narrows to a document the question does not
name. No retrieval is run: only the filter's decision and the share it matched."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
GRID = [0.0, 0.2, 0.3, 0.35, 0.4, 0.5, 0.6]


def decisions(store, questions: list[str]) -> list[tuple[str | None, float]]:
    """(document picked or None, the share of its name matched) for each question, with no minimum."""
    from ragtune.retrieval.pipeline import QueryContext
    from ragtune.retrieval.pre.document_filter import DocumentFilter, DocumentFilterConfig

    stage = DocumentFilter(DocumentFilterConfig(name="document_filter", min_share=0.0), SimpleNamespace(store=store))
    out = []
    for q in questions:
        details = stage.run(QueryContext(q, top_k=5, fetch_k=5))
        out.append((details["document"], details.get("share", 0.0)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--project", type=Path, required=True)
    ap.add_argument("--queries", type=Path, default=ROOT / "data" / "cuad_retrieval" / "queries.jsonl")
    ap.add_argument("--financebench", type=Path,
                    default=Path(os.environ.get("FINANCEBENCH_DEV", "/work/shared/data/financebench_dev")))
    args = ap.parse_args()
    from ragtune import Project

    project = Project(args.project)
    store = project.store
    rows = [json.loads(line) for line in args.queries.read_text(encoding="utf-8").splitlines()]
    named = decisions(store, [r["text"] for r in rows])
    wanted = [r["metadata"]["contract"] for r in rows]
    bare = decisions(store, [r["metadata"]["question"] for r in rows])
    fin_path = args.financebench / "questions.jsonl"
    fin = decisions(store, [json.loads(line)["question"] for line in fin_path.read_text().splitlines()]) \
        if fin_path.is_file() else []
    print(f"{len(named)} naming questions, {len(bare)} without the name, {len(fin)} financebench questions\n")
    print("| min_share | right picks (naming) | wrong picks (naming) | picks without a name | picks on filings |")
    print("|---:|---:|---:|---:|---:|")
    for m in GRID:
        right = sum(d is not None and s >= m and Path(d).stem == w for (d, s), w in zip(named, wanted, strict=True))
        wrong = sum(d is not None and s >= m and Path(d).stem != w for (d, s), w in zip(named, wanted, strict=True))
        loose = sum(d is not None and s >= m for d, s in bare)
        off = sum(d is not None and s >= m for d, s in fin)
        print(f"| {m:.2f} | {right}/{len(named)} | {wrong} | {loose}/{len(bare)} | {off}/{len(fin)} |")
    shares = sorted(round(s, 2) for (d, s), w in zip(named, wanted, strict=True) if d and Path(d).stem == w)
    print(f"\nshares of the right picks: {shares[:5]} ... {shares[-1]}; of the picks without a name or on filings: "
          f"{sorted(round(s, 2) for d, s in bare + fin if d is not None)}")
    project.close()


if __name__ == "__main__":
    main()
