"""The dashboard (admin): feedback counts, win rates per model version with 95% Wilson intervals, agreement,
the generation queue, the loop's rounds and a button that runs ``ragtune tune loop`` on what was gathered, and
exports to SFT / DPO / KTO datasets."""

from __future__ import annotations

import math
import subprocess
import sys
import threading
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from ragtune.server.app import Admin, AdminPage, Annotator, State, get_state, parse_body, with_session

router = APIRouter()


def wilson(wins: float, n: float, z: float = 1.96) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion (ties count half a win)."""
    if n <= 0:
        return None
    p = wins / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)


def win_rates(state: State) -> list[dict[str, Any]]:
    """Per model version (and per pipeline@version): human pairwise comparisons won, lost, tied."""
    store = state.project.feedback
    prefs = store.feedback(kinds=["preference"], source="human")
    ids = {i for fb in prefs for i in fb.answer_ids}
    by_id = {a.id: a for a in store.answers(ids=ids)}
    tally: dict[str, dict[str, float]] = defaultdict(lambda: {"wins": 0, "losses": 0, "ties": 0})
    for fb in prefs:
        a, b = by_id[fb.answer_a], by_id[fb.answer_b]
        for key_of in (lambda x: x.model or "?", lambda x: f"{x.pipeline}@{x.model}"):
            ka, kb = key_of(a), key_of(b)
            if ka == kb:
                continue
            if fb.preferred == "tie":
                tally[ka]["ties"] += 1
                tally[kb]["ties"] += 1
            else:
                win, lose = (ka, kb) if fb.preferred == "a" else (kb, ka)
                tally[win]["wins"] += 1
                tally[lose]["losses"] += 1
    rows = []
    for name, t in sorted(tally.items()):
        n = t["wins"] + t["losses"] + t["ties"]
        score = t["wins"] + t["ties"] / 2
        rows.append({"name": name, "games": int(n), **{k: int(v) for k, v in t.items()},
                     "win_rate": round(score / n, 4) if n else None, "interval": wilson(score, n)})
    return rows


def summary(state: State) -> dict[str, Any]:
    from ragtune.datasets.exports import FORMATS, feedback_dataset
    from ragtune.server.review import agreement, queue_items
    from ragtune.training.loop import FeedbackLoop

    store = state.project.feedback
    counts = store.counts()
    counts["export_rows"] = {f: len(feedback_dataset(store, f)) for f in FORMATS}
    loop = FeedbackLoop(state.project.training_resources)
    history = loop.history()
    champion = state.project.registry.champion("llm")
    return {"counts": counts, "win_rates": win_rates(state), "agreement": agreement(state),
            "queue": state.queue.stats(), "review": {k: v for k, v in queue_items(state).items() if k != "items"},
            "loop": {"rounds": history["rounds"], "cursor": loop.cursor(history), "command": loop_command(state),
                     "run": _loop_state(state).snapshot()},
            "champion": champion.id if champion else None}


def loop_command(state: State) -> list[str]:
    return [sys.executable, "-m", "ragtune.cli", "tune", "loop", "-p", str(state.project.root), "--rounds", "1",
            "--json"]


class LoopRun:
    """``ragtune tune loop`` in its own process (training must not share the server's llama.cpp context); the
    server serves the new champion once the gate promotes one."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.process: subprocess.Popen | None = None
        self.started: str | None = None
        self.log: Path | None = None

    def start(self, command: list[str], log: Path) -> None:
        with self.lock:
            if self.process is not None and self.process.poll() is None:
                raise HTTPException(409, "a loop round is already running")
            log.parent.mkdir(parents=True, exist_ok=True)
            self.log = log
            self.started = datetime.now(timezone.utc).isoformat(timespec="seconds")
            with log.open("wb") as out:
                self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            if self.process is None:
                return {"status": "idle"}
            code = self.process.poll()
            tail = self.log.read_text(encoding="utf-8", errors="replace")[-4000:] if self.log and self.log.exists() \
                else ""
            return {"status": "running" if code is None else "finished", "returncode": code, "started": self.started,
                    "pid": self.process.pid, "output": tail}


def _loop_state(state: State) -> LoopRun:
    return state.extras.setdefault("loop", LoopRun())


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard_page(request: Request, principal: AdminPage):
    state = get_state(request)
    data = await run_in_threadpool(summary, state)
    return with_session(state.render(request, "dashboard.html", principal, d=data,
                                     command=" ".join(data["loop"]["command"][2:]).replace("ragtune.cli", "ragtune")),
                        request)


@router.get("/api/stats")
async def stats(request: Request, principal: Annotator) -> dict[str, Any]:
    return await run_in_threadpool(summary, get_state(request))


@router.post("/api/loop")
async def run_loop(request: Request, principal: Admin) -> dict[str, Any]:
    state = get_state(request)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    run = _loop_state(state)
    run.start(loop_command(state), state.project.workdir / "server" / f"loop-{stamp}.log")
    return {"started": True, "command": loop_command(state), **run.snapshot()}


@router.get("/api/loop")
async def loop_status(request: Request, principal: Admin) -> dict[str, Any]:
    return _loop_state(get_state(request)).snapshot()


class ExportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Literal["sft", "dpo", "kto"]
    source: Literal["human", "ai"] | None = None
    after_id: int | None = None
    with_context: bool = False


def _exports(state: State) -> Path:
    return state.project.workdir / "exports"


@router.post("/api/export")
async def export(request: Request, principal: Admin) -> dict[str, Any]:
    """Write one export (the same as ``ragtune feedback export``) under ``.ragtune/exports/``."""
    from ragtune.datasets.exports import export_feedback

    state = get_state(request)
    body = await parse_body(request, ExportRequest)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    path = _exports(state) / f"{body.format}-{stamp}.jsonl"
    report = await run_in_threadpool(export_feedback, state.project.feedback, body.format, path, None, body.after_id,
                                     body.source, body.with_context)
    return report | {"download": f"/exports/{path.name}"}


@router.get("/exports/{name}")
def download(name: str, request: Request, principal: Admin):
    folder = _exports(get_state(request))
    path = folder / name
    if "/" in name or "\\" in name or name.startswith(".") or not path.is_file():
        raise HTTPException(404, f"no export {name!r}")
    return FileResponse(path, media_type="application/jsonl", filename=name)
