"""The dashboard and the review queue on a large feedback store: the numbers of docs/performance.md.

A throw-away project whose SQLite feedback store holds ANSWERS answers (QUESTIONS questions, four model versions)
and FEEDBACK feedback rows: AI ratings and preferences, human ratings, corrections, and the votes of COMPARISONS
blind comparisons. Each endpoint (``/dashboard``, ``/api/stats``, ``/review``, ``/api/review``) is measured in its
own process (in-process TestClient, open loopback mode: the caller is the local admin): one warm-up request,
then REQUESTS timed requests on the unchanged store ("steady"), then REQUESTS timed requests each right after one
new human vote is stored ("after a write": what a dashboard costs while people are voting); a process that has
not finished within BUDGET seconds is stopped and reported with
the requests it completed (p95 then is a lower bound, marked ">"). ``--baseline SRC`` measures the same store with
another checkout's sources (e.g. ``/tmp/ragtune-main/src``) in the same run and prints the ratio.

    .venv/bin/python bench/server_queue.py [--feedback 100000] [--comparisons 10000] [--requests 20]
        [--budget 300] [--baseline /tmp/ragtune-main/src]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ENDPOINTS = ["/dashboard", "/api/stats", "/review", "/api/review"]
MODELS = ["base", "v1", "v2", "v3"]
PIPELINES = ["naive", "advanced"]
RATERS = [f"rater{i:02d}" for i in range(20)]


def fill(root: Path, n_feedback: int, n_comparisons: int, seed: int = 0) -> dict[str, int]:
    """A project whose store holds the synthetic answers, feedback and comparisons (bulk inserts)."""
    from sqlalchemy import insert

    from ragtune import Project
    from ragtune.feedback.schema import answers_table, comparisons_table, feedback_answers_table, feedback_table

    rng = random.Random(seed)
    project = Project.init(root)
    # only the name: a --baseline checkout may not know the keys this checkout's defaults add
    project.config_path.write_text("name: server-bench\n", encoding="utf-8")
    store = project.feedback
    n_answers = max(8, n_feedback // 5)
    per_question = len(MODELS)
    start = datetime(2026, 1, 1)
    answers = []
    for i in range(n_answers):
        q = i // per_question
        context = [{"chunk_id": f"c{q}-{k}", "source": f"doc{q % 50}.txt", "page": None, "text": f"Passage {k} of "
                    f"question {q}: the agreement runs for {k + 1} years.", "score": 0.5} for k in range(3)]
        details = {"via": "api"} | ({"unsupported": ["An unsupported sentence."]} if rng.random() < 0.1 else {})
        answers.append({"id": i + 1, "question": f"Question {q}: how long does the agreement run?",
                        "answer": f"It runs for {i % 5 + 1} years [1].", "context": context,
                        "model": MODELS[i % per_question], "pipeline": PIPELINES[(i // 2) % 2], "details": details,
                        "created_at": start + timedelta(seconds=i)})
    pair_of = lambda q: (q * per_question + 1 + rng.randrange(2), q * per_question + 3 + rng.randrange(2))  # noqa: E731
    n_questions = n_answers // per_question
    feedback, links, comparisons = [], [], []

    def add(kind: str, ids: list[int], source: str = "human", **values) -> int:
        fid = len(feedback) + 1
        feedback.append({"id": fid, "kind": kind, "rating": None, "preferred": None, "edited_answer": None,
                         "comment": None, "source": source, "judge_model": "fast" if source == "ai" else None,
                         "rater": None if source == "ai" else rng.choice(RATERS),
                         "created_at": start + timedelta(seconds=fid)} | values)
        links.extend({"feedback_id": fid, "position": p, "answer_id": a} for p, a in enumerate(ids))
        return fid

    for c in range(n_comparisons):
        a, b = pair_of(rng.randrange(n_questions))
        row = {"id": f"cmp{c}", "question": answers[a - 1]["question"], "answer_a": a, "answer_b": b,
               "label_a": f"naive@{answers[a - 1]['model']} (extract)",
               "label_b": f"advanced@{answers[b - 1]['model']} (extract)", "rater": rng.choice(RATERS),
               "created_at": start, "choice": None, "feedback_ids": None, "voted_at": None}
        if rng.random() < 0.9:
            choice = rng.choice(["a", "b", "tie", "a", "b", "both_bad"])
            if choice == "both_bad":
                ids = [add("rating", [a], rating="down", rater=row["rater"]),
                       add("rating", [b], rating="down", rater=row["rater"])]
            else:
                ids = [add("preference", [a, b], preferred=choice, rater=row["rater"])]
            row |= {"choice": choice, "feedback_ids": ids, "voted_at": start}
        comparisons.append(row)
    while len(feedback) < n_feedback:
        roll = rng.random()
        aid = rng.randrange(1, n_answers + 1)
        if roll < 0.35:
            add("rating", [aid], "ai", rating=rng.choice(["up", "up", "down"]))
        elif roll < 0.5:
            a, b = pair_of(rng.randrange(n_questions))
            add("preference", [a, b], "ai", preferred=rng.choice(["a", "b", "tie"]))
        elif roll < 0.95:
            add("rating", [aid], rating=rng.choice(["up", "up", "down"]))
        else:
            add("edit", [aid], edited_answer=f"It runs for {aid % 7 + 1} years [2].")
    with store._writer.begin() as conn:  # noqa: SLF001  (a bench filling the store in bulk)
        for table, rows in ((answers_table, answers), (feedback_table, feedback),
                            (feedback_answers_table, links), (comparisons_table, comparisons)):
            for i in range(0, len(rows), 5000):
                conn.execute(insert(table), rows[i:i + 5000])
    project.close()
    return {"answers": len(answers), "feedback": len(feedback), "comparisons": len(comparisons)}


def measure(root: str, endpoint: str, requests: int) -> None:
    """(child process) One warm-up request, then ``requests`` timed ones; one JSON line per request."""
    from fastapi.testclient import TestClient

    from ragtune.server.app import create_app

    app = create_app(root, warm=False)
    store = app.state.ragtune.project.feedback
    with TestClient(app) as http:
        for i in range(2 * requests + 1):
            mode = "warm_up" if i == 0 else "steady" if i <= requests else "after_write"
            if mode == "after_write":
                store.add_rating(1 + i % 100, "up", rater=f"bench-{i}")
            t = time.perf_counter()
            r = http.get(endpoint)
            took = time.perf_counter() - t
            if r.status_code != 200:
                raise SystemExit(f"{endpoint}: HTTP {r.status_code}: {r.text[:300]}")
            print(json.dumps({"endpoint": endpoint, "mode": mode, "s": took}), flush=True)


def run(root: Path, endpoint: str, requests: int, budget: float, src: str) -> dict:
    env = dict(os.environ, PYTHONPATH=src, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    cmd = [sys.executable, __file__, "--child", str(root), endpoint, str(requests)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
    try:
        out, _ = proc.communicate(timeout=budget)
        finished = proc.returncode == 0
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        finished = False
    times = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    first = next((t["s"] for t in times if t["mode"] == "warm_up"), None)
    row = {"endpoint": endpoint, "finished": finished, "first_s": first,
           "lower_bound_s": None if finished else budget if first is None else max(t["s"] for t in times)}
    for mode in ("steady", "after_write"):
        timed = sorted(t["s"] for t in times if t["mode"] == mode)
        row[mode] = {"n": len(timed), "p50_s": timed[len(timed) // 2] if timed else None,
                     "p95_s": timed[min(len(timed) - 1, int(0.95 * len(timed)))] if timed else None}
    return row


def show(label: str, rows: list[dict]) -> None:
    print(f"\n{label}")
    print(f"{'':<14}{'':>10}{'steady':>30}{'after a write':>30}")
    print(f"{'endpoint':<14}{'first':>10}" + f"{'requests':>10}{'p50':>10}{'p95':>10}" * 2)
    fmt = lambda v: f"{v * 1000:.0f} ms" if v is not None else "-"  # noqa: E731
    for r in rows:
        cells = ""
        for mode in ("steady", "after_write"):
            m = r[mode]
            p95 = fmt(m["p95_s"]) if r["finished"] else f">{r['lower_bound_s']:.0f} s"
            cells += f"{m['n']:>10}{fmt(m['p50_s']):>10}{p95:>10}"
        print(f"{r['endpoint']:<14}{fmt(r['first_s']):>10}{cells}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feedback", type=int, default=100_000)
    parser.add_argument("--comparisons", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--budget", type=float, default=300, help="seconds per endpoint before it is stopped")
    parser.add_argument("--baseline", help="another checkout's src/ folder, measured on the same store")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    src = str(Path(__file__).resolve().parents[1] / "src")
    with tempfile.TemporaryDirectory(prefix="ragtune-server-bench-") as tmp:
        t = time.perf_counter()
        made = fill(Path(tmp) / "proj", args.feedback, args.comparisons)
        print(f"store: {made} (filled in {time.perf_counter() - t:.0f} s)", flush=True)
        results = {}
        for label, source in (("baseline", args.baseline), ("this checkout", src)):
            if source is None:
                continue
            rows = []
            for endpoint in ENDPOINTS:  # each side on its own copy of the store (a store opens and migrates)
                copy = Path(tmp) / f"run-{len(results)}-{len(rows)}"
                shutil.copytree(Path(tmp) / "proj", copy)
                rows.append(run(copy, endpoint, args.requests, args.budget, source))
                shutil.rmtree(copy)
            show(f"{label} ({source})", rows)
            results[label] = rows
        if "baseline" in results:
            print("\np95 ratio (baseline / this checkout; '>' where the baseline was stopped):")
            for before, after in zip(results["baseline"], results["this checkout"], strict=True):
                for mode in ("steady", "after_write"):
                    b = before[mode]["p95_s"] if before["finished"] else before["lower_bound_s"]
                    if b is not None and after[mode]["p95_s"]:
                        mark = "" if before["finished"] else ">"
                        print(f"  {before['endpoint']:<14}{mode:<13}{mark}{b / after[mode]['p95_s']:.1f}x")
        if args.json:
            print(json.dumps({"store": made, **results}))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        measure(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        main()
