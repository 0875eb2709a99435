"""`ragtune serve` under load on loopback: the numbers of docs/serve.md.

A throw-away project (the bundled demo's six contracts) served by `ragtune serve` in its own process on a free
127.0.0.1 port. Then:
  votes    CLIENTS concurrent clients each send VOTES votes (POST /v1/feedback, each with a unique comment) while
           CHATTERS clients ask 3 streamed questions each (/v1/chat/completions, the default extract strategy): every
           acknowledged vote must be in the database exactly once; vote latency p50/p95 and chat time-to-first-token
           (queueing for the one generator included) are reported; one question is asked first to load the models
  kill     the same vote load, and the server is SIGKILLed once KILL_AFTER votes were acknowledged: every vote
           acknowledged before the kill must be in the database (opened afresh), none twice

    .venv/bin/python bench/serve_load.py [--clients 50] [--votes 20] [--chatters 4] [--kill-after 400]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

QUESTIONS = ["What is the term of the agreement?", "Which law governs the agreement?",
             "Can either party terminate the agreement?", "Who are the parties to the agreement?"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setup(root: Path, answers: int) -> list[int]:
    """Ingest the demo corpus and record the answers the votes will be about."""
    from ragtune import Project
    from ragtune.demo.walkthrough import CORPUS

    project = Project.init(root)
    project.ingest([CORPUS])
    ids = [project.feedback.record_answer(f"Load question {i}?", f"Answer {i}.") for i in range(answers)]
    project.close()
    return ids


def start(root: Path, port: int) -> subprocess.Popen:
    import httpx

    proc = subprocess.Popen([sys.executable, "-m", "ragtune.cli", "serve", "-p", str(root), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start within 120 s")


def warm(port: int) -> None:
    """One question first, so that the measurements do not include loading the models."""
    import httpx

    httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions", timeout=300,
               json={"messages": [{"role": "user", "content": QUESTIONS[0]}]}).raise_for_status()


def quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def vote_load(port: int, answer_ids: list[int], clients: int, votes: int, chatters: int,
              kill_after: int | None = None, proc: subprocess.Popen | None = None) -> dict:
    """Run the load; returns acknowledged vote comments, latencies, TTFTs and errors."""
    import httpx

    url = f"http://127.0.0.1:{port}"
    acked: list[str] = []
    latencies: list[float] = []
    ttft: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    killed = threading.Event()

    def voter(c: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            for i in range(votes):
                if stop.is_set():
                    return
                comment = f"client-{c}-vote-{i}"
                body = {"answer_id": answer_ids[(c * votes + i) % len(answer_ids)],
                        "rating": "up" if (c + i) % 2 else "down", "comment": comment}
                t0 = time.perf_counter()
                try:
                    r = http.post("/v1/feedback", json=body)
                except httpx.HTTPError as e:
                    if not killed.is_set():
                        with lock:
                            errors.append(f"{comment}: {type(e).__name__}")
                    return
                elapsed = time.perf_counter() - t0
                with lock:
                    if r.status_code == 200 and r.json().get("stored"):
                        acked.append(comment)
                        latencies.append(elapsed)
                        if kill_after is not None and len(acked) >= kill_after and not killed.is_set():
                            killed.set()
                            proc.send_signal(signal.SIGKILL)
                            stop.set()
                    else:
                        errors.append(f"{comment}: HTTP {r.status_code}")

    def chatter(c: int) -> None:
        with httpx.Client(base_url=url, timeout=300) as http:
            n = 0
            while not stop.is_set() and n < 3:
                t0 = time.perf_counter()
                try:
                    with http.stream("POST", "/v1/chat/completions", json={
                            "stream": True, "messages": [{"role": "user", "content": QUESTIONS[(c + n) % 4]}]}) as r:
                        first = True
                        for line in r.iter_lines():
                            if first and line.startswith("data: ") and '"content": "' in line \
                                    and '"content": ""' not in line:
                                first = False
                                with lock:
                                    ttft.append(time.perf_counter() - t0)
                except httpx.HTTPError:
                    return
                n += 1

    threads = [threading.Thread(target=voter, args=(c,)) for c in range(clients)]
    threads += [threading.Thread(target=chatter, args=(c,)) for c in range(chatters)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads[:clients]:
        t.join()
    stop.set()
    for t in threads[clients:]:
        t.join()
    return {"acked": acked, "latencies": latencies, "ttft": ttft, "errors": errors,
            "seconds": time.perf_counter() - t0}


def check(root: Path, acked: list[str]) -> dict:
    """Every acknowledged vote in the database exactly once (the store opened afresh)."""
    from ragtune.feedback.store import FeedbackStore

    store = FeedbackStore(root / ".ragtune" / "feedback.db")
    comments = [f.comment for f in store.feedback(kinds=["rating"]) if (f.comment or "").startswith("client-")]
    store.close()
    stored = set(comments)
    return {"rows": len(comments), "acknowledged": len(acked), "lost": len(set(acked) - stored),
            "duplicated": len(comments) - len(stored)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--votes", type=int, default=20)
    parser.add_argument("--chatters", type=int, default=4)
    parser.add_argument("--kill-after", type=int, default=400)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for phase in ("votes", "kill"):
            root = Path(tmp) / phase
            ids = setup(root, answers=args.clients)
            port = free_port()
            proc = start(root, port)
            warm(port)
            try:
                run = vote_load(port, ids, args.clients, args.votes, args.chatters if phase == "votes" else 0,
                                args.kill_after if phase == "kill" else None, proc)
            finally:
                if proc.poll() is None:
                    proc.terminate()
                proc.wait(30)
            checked = check(root, run["acked"])
            lat = [x * 1000 for x in run["latencies"]]
            results[phase] = checked | {
                "errors": len(run["errors"]), "error_examples": run["errors"][:3], "seconds": round(run["seconds"], 1),
                "vote_ms_p50": round(quantile(lat, 0.5) or 0, 1), "vote_ms_p95": round(quantile(lat, 0.95) or 0, 1),
                "votes_per_s": round(len(lat) / run["seconds"], 1),
                "chat_ttft_s_p50": round(quantile(run["ttft"], 0.5), 2) if run["ttft"] else None,
                "chat_ttft_s_max": round(max(run["ttft"]), 2) if run["ttft"] else None, "chats": len(run["ttft"]),
                "killed": phase == "kill" and proc.returncode == -signal.SIGKILL}
            print(phase, json.dumps(results[phase]), flush=True)
    v, k = results["votes"], results["kill"]
    print("\n| run | clients x votes | rows | acknowledged | lost | duplicated | vote p50 | vote p95 | chat TTFT |\n"
          "|---|---|---|---|---|---|---|---|---|\n"
          f"| load | {args.clients} x {args.votes} | {v['rows']} | {v['acknowledged']} | {v['lost']} "
          f"| {v['duplicated']} "
          f"| {v['vote_ms_p50']} ms | {v['vote_ms_p95']} ms | {v['chat_ttft_s_p50']} s ({v['chats']} chats) |\n"
          f"| SIGKILL after {args.kill_after} acks | {args.clients} x {args.votes} | {k['rows']} | {k['acknowledged']} "
          f"| {k['lost']} | {k['duplicated']} | {k['vote_ms_p50']} ms | {k['vote_ms_p95']} ms | - |")
    ok = v["rows"] == v["acknowledged"] == args.clients * args.votes and v["lost"] == v["duplicated"] == 0 \
        and k["lost"] == k["duplicated"] == 0 and k["killed"]
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
