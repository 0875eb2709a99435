"""`ragtune data synth` on the bundled demo corpus (6 CUAD contracts) in a throw-away project: wall and CPU
time, LLM calls, acceptance rate overall and per question type, rejection reasons, the leakage check. The
numbers of docs/datasets.md.

    .venv/bin/python bench/synth_demo.py [--n 100] [--threads 1] [--types factual,extractive]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads (default: all cores)")
    parser.add_argument("--types", default=None, help="comma-separated question types (default: the mix)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from ragtune import Project
    from ragtune.demo import CORPUS

    with tempfile.TemporaryDirectory() as tmp:
        project = Project.init(tmp, name="synth-bench")
        project.config.llm.threads = args.threads
        t0 = time.perf_counter()
        project.ingest([CORPUS])
        ingest_s = time.perf_counter() - t0
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        report = project.synthesize(n=args.n, types=args.types.split(",") if args.types else None, seed=args.seed)
        wall = time.perf_counter() - t0
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        card = report.card
        print(json.dumps({
            "n": args.n, "chunks": project.store.count_chunks(), "ingest_s": round(ingest_s, 1),
            "synth_wall_s": round(wall, 1),
            "synth_cpu_s": round(cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime, 1),
            "load_avg_1min_at_end": os.getloadavg()[0], "cores": os.cpu_count(),
            "counts": card["counts"], "by_type": card["by_type"], "attempts": card["attempts"],
            "acceptance_rate": card["acceptance_rate"], "acceptance_by_type": card["acceptance_by_type"],
            "rejections": card["rejections"], "dropped": card["dropped"], "judge": card["judge"],
            "usage": card["usage"], "leakage": {s: {k: card["leakage"][s][k] for k in ("n_test", "n_leaked",
                                                                                    "max_similarity")}
                                                for s in ("validation", "test")},
        }, indent=2))
        project.close()


if __name__ == "__main__":
    main()
