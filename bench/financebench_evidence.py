"""The PDF loader and the finance pack's table reading on FinanceBench's gold evidence pages, without retrieval:
for each financebench_dev question the finance pack reads as a lookup or a calculation, its operands are read
from the text the loader gives its evidence pages, computed and checked by ``finance_check``. Also the seconds
the loader takes for those filings. docs/benchmarking.md, "Tables".

    nice -n 10 python bench/financebench_evidence.py [--data ../shared/data/financebench_dev]
    nice -n 10 python bench/financebench_evidence.py --baseline /path/to/other/checkout/src   # + that loader

With ``--baseline`` the same questions are read by another checkout's code (its ``src`` folder, run in a
subprocess), and the load-time ratio is printed."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(data: Path) -> dict:
    """{"right", "n", "load_s", "filings", "questions": [{id, doc, right, read}]} for the code on sys.path."""
    from ragtune.documents.loaders.pdf import PdfLoader
    from ragtune.evaluation.metrics.finance import check
    from ragtune.generation.arithmetic import evaluate
    from ragtune.packs.finance.formulas import calculation, format_result, read_operand

    rows = [json.loads(line) for line in (data / "questions.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    loader = PdfLoader(tables=True)
    pages: dict[str, dict[int, str]] = {}
    load_s, out = 0.0, []
    for r in rows:
        calc = calculation(r["question"])
        if calc is None:
            continue
        doc = r["doc_name"]
        if doc not in pages:
            path = data / "pdfs" / f"{doc}.pdf"
            t0 = time.perf_counter()
            pages[doc] = {p.number: p.text for p in loader.load(path, path.read_bytes())}
            load_s += time.perf_counter() - t0
        text = "\n".join(pages[doc].get(e["evidence_page_num"] + 1, "") for e in r["evidence"])
        values = {op.name: got[0] for op in calc.operands if (got := read_operand(op, text)) is not None}
        read, right = [f"no {op.label}" for op in calc.operands if op.name not in values], False
        if not read:
            answer = format_result(r["question"], calc, evaluate(calc.expression, values))
            right, read = bool(check(r["question"], answer, r["answer"])[0]), [answer]
        out.append({"id": r["financebench_id"], "doc": doc, "right": right, "read": read, "gold": r["answer"][:80]})
    return {"right": sum(q["right"] for q in out), "n": len(out), "load_s": round(load_s, 1), "filings": len(pages),
            "questions": out}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "financebench_dev")
    ap.add_argument("--baseline", type=Path, help="another checkout's src folder, read the same way")
    ap.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # the baseline subprocess's output
    args = ap.parse_args()
    if not (args.data / "questions.jsonl").is_file():
        sys.exit(f"{args.data}: no questions.jsonl (give --data, a financebench_dev folder)")
    result = run(args.data)
    if args.json:
        print(json.dumps(result))
        return
    results = {"this checkout": result}
    if args.baseline:
        env = {**os.environ, "PYTHONPATH": str(args.baseline.resolve())}
        done = subprocess.run([sys.executable, __file__, "--data", str(args.data), "--json"], env=env,
                              capture_output=True, text=True, check=True)
        results["baseline"] = json.loads(done.stdout.strip().splitlines()[-1])
    for name, r in results.items():
        print(f"{name}: {r['right']} of {r['n']} read right from the evidence pages; loading {r['filings']} filings "
              f"took {r['load_s']} s")
    if args.baseline:
        base, new = results["baseline"], result
        changed = [(b["id"], b["doc"], b["right"], n["right"], n["read"]) for b, n in
                   zip(base["questions"], new["questions"], strict=True) if b["right"] != n["right"]]
        for qid, doc, was, now, read in changed:
            print(f"  {qid} {doc}: baseline {'right' if was else 'wrong'}, now {'right' if now else 'wrong'} {read}")
        print(f"load time: baseline / this checkout = {base['load_s'] / max(new['load_s'], 1e-9):.1f}x")


if __name__ == "__main__":
    main()
