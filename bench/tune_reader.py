"""`ragtune tune reader` on CUAD: the 15 contracts of cuad_dev and their Yes/No labels (``cuad_questions(...,
yes_no=True)``: the rows whose CUAD answer is Yes or No, the clauses as contexts), with the default settings;
prints, per model, the held-out metric of the untuned reader and of the candidate, the gate's interval, p and
decision, and the training seconds.

    python bench/tune_reader.py [--data ../shared/data/cuad_dev] [--workdir bench/.work/tune_reader]"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    from ragtune import Project
    from ragtune.datasets.cuad import cuad_questions
    from ragtune.training.reader import ReaderTuner

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "cuad_dev")
    ap.add_argument("--workdir", type=Path, default=ROOT / "bench" / ".work" / "tune_reader")
    args = ap.parse_args()
    folder = args.workdir / "project"
    if not (folder / "ragtune.yaml").exists():
        Project.init(folder, name="cuad_dev-reader", domain="contracts")
    project = Project(folder)
    t0 = time.perf_counter()
    project.ingest([args.data / "contracts"])
    print(f"ingested in {time.perf_counter() - t0:.0f} s", flush=True)
    path = args.workdir / "yes_no.jsonl"
    rows = [q for q in cuad_questions(args.data, yes_no=True) if q["label"] in ("Yes", "No")]
    path.write_text("".join(json.dumps(q) + "\n" for q in rows), encoding="utf-8")
    config = project.config.training.reader.model_copy(update={"questions": str(path)})
    result = ReaderTuner(project.training_resources, config).run()
    d, h = result.data, result.heldout
    print(f"{d['labels']} labels ({d['yes']} Yes) of {d['questions']} questions on {d['documents']} contracts; "
          f"held out {len(h['documents'])} ({h['pairs']} pairs, {h['yes']} Yes, {h['clauses_located']} clauses "
          f"located); {result.seconds:.0f} s")
    print("| model | champion | metric, champion -> candidate | 95% interval | p | decision | training |\n"
          "|---|---|---|---|---|---|---|")
    for m in result.models:
        g = m.gate
        print(f"| {m.model} | {m.champion} | {m.metric} {m.before:.3f} -> {m.after:.3f} | [{g['ci_low']:+.3f}, "
              f"{g['ci_high']:+.3f}] | {g['p_value']:.3g} | {m.decision} ({m.version.id}) | {m.train_seconds:.0f} s |")
    project.close()


if __name__ == "__main__":
    main()
