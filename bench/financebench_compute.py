"""FinanceBench calculations: the financebench_dev questions the finance pack reads as a calculation (a ratio, a
margin, a growth rate, an average over year-ends), each asked of its own filing, answered by ``extract`` and by
``extract+compute`` with three retrieval pipelines, scored by ``finance_check``.

    python bench/financebench_compute.py [--data ../shared/data/financebench_dev] [--workdir DIR]
                                         [--filings NAME,...]

Prints, per arm: right (with a bootstrap interval), refused, p50 latency, and the paired test of each
extract+compute arm against extract on the same questions. The project (finance pack) lives in --workdir, so a
rerun skips the filings already ingested."""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARMS = [("extract", "hybrid"), ("extract+compute", "hybrid"), ("extract+compute", "hybrid+operand_rows"),
        ("extract+compute", "operand_queries+hybrid+operand_rows")]


def main() -> None:
    from ragtune import Project
    from ragtune.evaluation.metrics.finance import check
    from ragtune.evaluation.stats import bootstrap_mean, paired_test
    from ragtune.packs.finance.formulas import calculation

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "financebench_dev")
    ap.add_argument("--workdir", type=Path, default=ROOT / "bench" / ".work" / "financebench_compute")
    ap.add_argument("--filings", default=None, help="Only these filings (doc names, comma-separated).")
    args = ap.parse_args()

    rows = [json.loads(line) for line in (args.data / "questions.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    rows = [r for r in rows if calculation(r["question"]) is not None]
    if args.filings:
        rows = [r for r in rows if r["doc_name"] in set(args.filings.split(","))]
    filings = list(dict.fromkeys(r["doc_name"] for r in rows))
    if not (args.workdir / "ragtune.yaml").exists():
        Project.init(args.workdir, domain="finance")
    project = Project(args.workdir)
    t0 = time.perf_counter()
    report = project.ingest([args.data / "pdfs" / f"{f}.pdf" for f in filings])
    print(f"{len(rows)} calculation questions over {len(filings)} filings; ingest {time.perf_counter() - t0:.0f} s "
          f"({report.chunks_added} chunks added)", flush=True)

    scores: dict[str, list[float]] = {}
    refused: dict[str, int] = {}
    seconds: dict[str, list[float]] = {}
    for r in rows:
        for strategy, pipeline in ARMS:
            arm = f"{strategy} / {pipeline}"
            t = time.perf_counter()
            answer = project.ask(r["question"], strategy=strategy, pipeline=pipeline,
                                 filters={"source": f"*{r['doc_name']}.pdf"})
            seconds.setdefault(arm, []).append(time.perf_counter() - t)
            ok, _ = check(r["question"], answer.answer, r["answer"])
            scores.setdefault(arm, []).append(float(bool(ok)))
            refused[arm] = refused.get(arm, 0) + (not answer.answered)
            print(json.dumps({"id": r["financebench_id"], "arm": arm, "right": bool(ok), "gold": r["answer"],
                              "answer": answer.answer[:300]}), flush=True)
    project.close()

    print("\n| arm | right [95% CI] | refused | p50 s |\n|---|---:|---:|---:|")
    for arm, values in scores.items():
        ci = bootstrap_mean(values, 0, arm)
        print(f"| {arm} | {sum(values):.0f} of {len(values)}: {ci.mean:.3f} [{ci.ci_low:.2f}, {ci.ci_high:.2f}] | "
              f"{refused[arm]} | {statistics.median(seconds[arm]):.2f} |")
    base = f"{ARMS[0][0]} / {ARMS[0][1]}"
    for arm in list(scores)[1:]:
        test = paired_test("finance_check", arm, base, scores[arm], scores[base], seed=0)
        print(f"{arm} - {base}: {test.diff:+.3f} [{test.ci_low:+.2f}, {test.ci_high:+.2f}], p = {test.p_value:.4f}")


if __name__ == "__main__":
    main()
