"""Memory and throughput of ``ingest --engine ray`` against the local engine on a synthetic corpus many times
larger than what the Ray pipeline holds at once (workers x ``scale.batch_files`` files), with a small object
store. Peak RSS is sampled every 0.2 s over the driver and all its descendant processes (Ray's raylet, GCS and
workers; shared object-store pages count in every process that maps them). Each engine ingests into a fresh
project in a subprocess, so the peaks do not mix.

    nice -n 10 python bench/ray_ingest_memory.py --files 120 360 --workers 2 --batch-files 4 --object-store-mb 100
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

WORDS = ("agreement party term fee notice licence warranty territory product service payment breach "
         "termination confidential information delivery schedule invoice audit liability indemnity").split()


def write_corpus(folder: Path, files: int, words: int, seed: int = 0) -> int:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    total = 0
    for i in range(files):
        sentences = [" ".join(rng.choice(WORDS) for _ in range(12)).capitalize() + "." for _ in range(words // 12)]
        text = f"Contract {i}\n\n" + "\n\n".join(" ".join(sentences[j:j + 6]) for j in range(0, len(sentences), 6))
        (folder / f"contract_{i:05d}.txt").write_text(text, encoding="utf-8")
        total += len(text.encode())
    return total


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def child(args: argparse.Namespace) -> None:
    """One ingest in this process; prints its report and peaks as JSON."""
    from ragtune import Project
    from ragtune.config import ScaleConfig

    peaks = {"driver_mb": 0.0, "total_mb": 0.0}
    stop = threading.Event()

    def sample() -> None:
        me = os.getpid()
        while not stop.is_set():
            driver = rss_kb(me)
            total = driver + sum(rss_kb(p) for p in descendants(me))
            peaks["driver_mb"] = max(peaks["driver_mb"], driver / 1024)
            peaks["total_mb"] = max(peaks["total_mb"], total / 1024)
            time.sleep(0.2)

    project = Project.init(Path(args.project))
    project.config.scale = ScaleConfig(engine=args.engine, workers=args.workers, batch_files=args.batch_files,
                                       object_store_mb=args.object_store_mb)
    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    t0 = time.perf_counter()
    report = project.ingest([Path(args.corpus)])
    seconds = time.perf_counter() - t0
    stop.set()
    thread.join()
    print(json.dumps({"engine": args.engine, "files": report.files_ingested, "chunks": report.chunks_added,
                      "seconds": round(seconds, 1), "chunks_per_s": round(report.chunks_added / seconds, 1),
                      "peak_driver_mb": round(peaks["driver_mb"]), "peak_total_mb": round(peaks["total_mb"])}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, nargs="+", default=[120, 360], help="Corpus sizes (ray runs each).")
    parser.add_argument("--words", type=int, default=600, help="Words per file.")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-files", type=int, default=4)
    parser.add_argument("--object-store-mb", type=int, default=100)
    parser.add_argument("--child", choices=["local", "ray"], help=argparse.SUPPRESS)
    parser.add_argument("--corpus", help=argparse.SUPPRESS)
    parser.add_argument("--project", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.engine = args.child
        child(args)
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.files:
            corpus = Path(tmp) / f"corpus_{n}"
            size = write_corpus(corpus, n, args.words)
            engines = ["ray", "local"] if n == max(args.files) else ["ray"]
            for engine in engines:
                cmd = [sys.executable, __file__, "--child", engine, "--corpus", str(corpus),
                       "--project", str(Path(tmp) / f"{engine}_{n}"), "--workers", str(args.workers),
                       "--batch-files", str(args.batch_files), "--object-store-mb", str(args.object_store_mb)]
                out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
                row = json.loads(out.strip().splitlines()[-1]) | {"corpus_mb": round(size / 1e6, 2)}
                rows.append(row)
                print(json.dumps(row), flush=True)
    budget = args.workers * args.batch_files
    print(f"\nin flight at most ~{budget} files (workers {args.workers} x batch {args.batch_files}); "
          f"object store {args.object_store_mb} MB")
    print("| engine | files | corpus MB | chunks | s | chunks/s | peak RSS driver MB | peak RSS total MB |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['engine']} | {r['files']} | {r['corpus_mb']} | {r['chunks']} | {r['seconds']} | "
              f"{r['chunks_per_s']} | {r['peak_driver_mb']} | {r['peak_total_mb']} |")
    local = next(r for r in rows if r["engine"] == "local")
    ray = next(r for r in rows if r["engine"] == "ray" and r["files"] == local["files"])
    print(f"\nray / local throughput: {ray['chunks_per_s'] / local['chunks_per_s']:.2f}x; "
          f"peak total RSS ray / local: {ray['peak_total_mb'] / local['peak_total_mb']:.2f}x")


if __name__ == "__main__":
    main()
