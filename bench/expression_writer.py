"""The expression writer (``answer.expressions``) before and after its LoRA SFT (``tune expressions``) on
financebench_dev's numerical-reasoning questions, with the operands read from the gold evidence pages (as
bench/financebench_evidence.py reads them: no ingest, no retrieval).

    nice -n 10 python bench/expression_writer.py [--data ../shared/data/financebench_dev] [--profile fast]
                                                 [--max-steps N] [--workdir DIR]

For every question the writer is offered the operands the finance pack reads from the evidence pages (the rule
formula's and the draft's: every line item the question names in the years it names), writes an expression
(``when: always``), which is checked and evaluated by ``extract+compute``; the answer is scored by
``finance_check``. Training examples come from the table rows of the same filings' other pages (the evidence
pages are left out) through ``ExpressionTuner.run(cells=...)``, which registers and gates the version on
held-out filings. Prints per model: offered (questions with at least one operand read), valid-expression rate
(of those offered), right-result rate (of all), and the rules alone (writer off) for reference."""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load(data: Path) -> tuple[list[dict], dict[str, dict[int, str]]]:
    """The numerical-reasoning questions and the loaded pages (1-based) of their filings."""
    from ragtune.documents.loaders.pdf import PdfLoader

    rows = [json.loads(line) for line in (data / "questions.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    rows = [r for r in rows if "Numerical reasoning" in (r.get("question_reasoning") or "")]
    loader, pages = PdfLoader(tables=True), {}
    for doc in dict.fromkeys(r["doc_name"] for r in rows):
        path = data / "pdfs" / f"{doc}.pdf"
        pages[doc] = {p.number: p.text for p in loader.load(path, path.read_bytes())}
    return rows, pages


def evidence(r: dict) -> set[int]:
    return {e["evidence_page_num"] + 1 for e in r["evidence"]}


def answer_all(strategy, rows: list[dict], pages: dict[str, dict[int, str]]) -> list[dict]:
    """Each question answered by ``strategy`` from its evidence pages, scored."""
    from ragtune.documents.models import Chunk
    from ragtune.evaluation.metrics.finance import check
    from ragtune.generation.prompts import NO_ANSWER

    out = []
    for r in rows:
        chunks = [Chunk(f"{r['doc_name']}-{p}", f"{r['doc_name']}.pdf", pages[r["doc_name"]].get(p, ""), 0, 0, p, 0)
                  for p in sorted(evidence(r))]
        traces: list = []
        text = strategy.respond(r["question"], chunks, traces)
        refused = text.startswith(NO_ANSWER)
        offered = not (refused and "no value found" in text) and (bool(traces) or not refused)
        ok, details = check(r["question"], text, r["answer"])
        out.append({"id": r["financebench_id"], "doc": r["doc_name"], "kind": details["kind"], "offered": offered,
                    "valid": offered and "cannot be computed" not in text, "right": bool(ok),
                    "wrote": traces[0].details.get("wrote") if traces else None, "answer": text[:240],
                    "gold": r["answer"][:80]})
    return out


def summary(name: str, scored: list[dict], writer: bool) -> str:
    offered = [s for s in scored if s["offered"]]
    valid = sum(s["valid"] for s in offered)
    right = sum(s["right"] for s in scored)
    rates = (f"{len(offered)} of {len(scored)} | {valid} of {len(offered)}: {valid / max(len(offered), 1):.3f}"
             if writer else "- | -")
    return f"| {name} | {rates} | {right} of {len(scored)}: {right / len(scored):.3f} |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "financebench_dev")
    ap.add_argument("--profile", default="fast", help="LLM profile that writes and is tuned (fast, quality).")
    ap.add_argument("--max-steps", type=int, default=None, help="Optimizer steps of the LoRA SFT (default: epochs).")
    ap.add_argument("--learning-rate", type=float, default=2e-4)
    ap.add_argument("--per-document", type=int, default=40, help="Synthetic examples per filing.")
    ap.add_argument("--test-examples", type=int, default=40, help="Held-out synthetic examples the gate scores.")
    ap.add_argument("--workdir", type=Path, default=ROOT / "bench" / ".work" / "expression_writer")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))

    from ragtune import Project
    from ragtune.generation.config import AnswerConfig
    from ragtune.generation.expressions import ExpressionsConfig, ExpressionWriter
    from ragtune.generation.strategies import strategies
    from ragtune.generation.strategies.selection import SentenceSelector
    from ragtune.packs import make_pack
    from ragtune.training.config import ExpressionTuneConfig
    from ragtune.training.expressions import ExpressionTuner

    t0 = time.perf_counter()
    rows, pages = load(args.data)
    print(f"{len(rows)} numerical-reasoning questions over {len(pages)} filings, loaded in "
          f"{time.perf_counter() - t0:.0f} s", flush=True)
    workdir = args.workdir / args.profile
    if not (workdir / "ragtune.yaml").exists():
        Project.init(workdir, domain="finance")
    project = Project(workdir)
    project.config.llm = project.config.llm.model_copy(update={"model": args.profile})
    project.config.training.sft.threads = args.threads
    project.config.training.sft.save_steps = 10_000  # no checkpoints: a bench run is not resumed
    pack = make_pack("finance")
    config = AnswerConfig(strategy="extract+compute", pack="finance",
                          expressions=ExpressionsConfig(writer="llm", when="always"))
    selector = SentenceSelector(config, project.embedder)

    def strategy(model: str | None, writer: bool = True):
        llm = project.llm_for(model)
        return strategies.get("extract+compute")(config, llm, selector, pack=pack,
                                                 writer=ExpressionWriter(config.expressions, llm) if writer else None)

    held = defaultdict(set)
    for r in rows:
        held[r["doc_name"]] |= evidence(r)
    cells = {doc: [c for n, text in doc_pages.items() if n not in held[doc] and (c := pack.cells(text))]
             for doc, doc_pages in pages.items()}
    t0 = time.perf_counter()
    tune = ExpressionTuneConfig(per_document=args.per_document, max_steps=args.max_steps,
                                learning_rate=args.learning_rate,
                                test_examples=args.test_examples)
    def progress(phase: str, done: int, total: int | None, info: dict) -> None:
        if phase != "train" or done % 5 == 0:
            print(f"  {phase} {done}/{total} {info} {time.perf_counter() - t0:.0f} s", flush=True)

    result = ExpressionTuner(project.training_resources, tune).run(cells={d: c for d, c in cells.items() if c},
                                                                   on_progress=progress)
    print(f"tune expressions: {result.version.id} {result.decision}, {result.examples}, train {result.train}, "
          f"held-out synthetic before {result.before} after {result.after}; {time.perf_counter() - t0:.0f} s; "
          f"gate: {result.gate['reason']}", flush=True)

    runs = {"rules only (writer off)": answer_all(strategy(None, writer=False), rows, pages),
            f"writer, {args.profile} before SFT": answer_all(strategy(None), rows, pages),
            f"writer, {args.profile} after SFT ({result.version.id})": answer_all(strategy(result.version.id), rows,
                                                                                 pages)}
    for name, scored in runs.items():
        for s in scored:
            print(json.dumps({"run": name, **s}), flush=True)
    print("\n| writer | questions offered operands | valid expressions (of offered) | right (finance_check) |\n"
          "|---|---:|---:|---:|")
    for name, scored in runs.items():
        print(summary(name, scored, writer=not name.startswith("rules")))
    project.close()


if __name__ == "__main__":
    main()
