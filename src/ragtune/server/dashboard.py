"""The dashboard (admin): feedback counts, win rates per model version with 95% Wilson intervals, agreement,
the generation queue, the loop's rounds and a button that runs ``ragtune tune loop`` on what was gathered, and
exports to the training dataset formats."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from ragtune.datasets.exports import FORMATS, Format, export_feedback, feedback_dataset
from ragtune.server.deps import Admin, AdminPage, State, get_state, parse_body
from ragtune.server.loop import loop_command
from ragtune.server.review_stats import agreement, queue_items

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
    tally: dict[str, dict[str, float]] = defaultdict(lambda: {"wins": 0, "losses": 0, "ties": 0})
    for model_a, pipeline_a, model_b, pipeline_b, preferred, n in state.project.feedback.preference_tally("human"):
        for ka, kb in ((model_a or "?", model_b or "?"), (f"{pipeline_a}@{model_a}", f"{pipeline_b}@{model_b}")):
            if ka == kb:
                continue
            if preferred == "tie":
                tally[ka]["ties"] += n
                tally[kb]["ties"] += n
            else:
                win, lose = (ka, kb) if preferred == "a" else (kb, ka)
                tally[win]["wins"] += n
                tally[lose]["losses"] += n
    rows = []
    for name, t in sorted(tally.items()):
        n = t["wins"] + t["losses"] + t["ties"]
        score = t["wins"] + t["ties"] / 2
        rows.append({"name": name, "games": int(n), **{k: int(v) for k, v in t.items()},
                     "win_rate": round(score / n, 4) if n else None, "interval": wilson(score, n)})
    return rows


def summary(state: State) -> dict[str, Any]:
    from ragtune.training.loop import FeedbackLoop

    store = state.project.feedback

    def counts() -> dict[str, Any]:
        return store.counts() | {"export_rows": {f: len(feedback_dataset(store, f)) for f in FORMATS}}

    loop = FeedbackLoop(state.project.training_resources)
    history = loop.history()
    champion = state.project.registry.champion("llm")
    review = queue_items(state, stale_ok=True)
    return {"counts": state.derived("counts", counts, stale_ok=True),
            "win_rates": state.derived("win_rates", lambda: win_rates(state), stale_ok=True),
            "agreement": agreement(state, stale_ok=True), "queue": state.queue.stats(),
            "review": {k: v for k, v in review.items() if k != "items"},
            "loop": {"rounds": history["rounds"], "cursor": loop.cursor(history),
                     "command": loop_command(state.project.root), "run": state.loop.snapshot()},
            "champion": champion.id if champion else None, "export_formats": list(FORMATS)}


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard_page(request: Request, principal: AdminPage):
    state = get_state(request)
    data = await run_in_threadpool(summary, state)
    return state.render(request, "dashboard.html", principal, d=data,
                        command=" ".join(data["loop"]["command"][2:]).replace("ragtune.cli", "ragtune"))


@router.get("/api/stats")
async def stats(request: Request, principal: Admin) -> dict[str, Any]:
    return await run_in_threadpool(summary, get_state(request))


@router.post("/api/loop")
async def run_loop(request: Request, principal: Admin) -> dict[str, Any]:
    state = get_state(request)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    command = loop_command(state.project.root)
    state.loop.start(command, state.project.workdir / "server" / f"loop-{stamp}.log")
    return {"started": True, "command": command, **state.loop.snapshot()}


@router.get("/api/loop")
async def loop_status(request: Request, principal: Admin) -> dict[str, Any]:
    return get_state(request).loop.snapshot()


class ExportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Format
    source: Literal["human", "ai"] | None = None
    after_id: int | None = None
    with_context: bool = False


def _exports(state: State) -> Path:
    return state.project.workdir / "exports"


@router.post("/api/export")
async def export(request: Request, principal: Admin) -> dict[str, Any]:
    """Write one export (the same as ``ragtune feedback export``) under ``.ragtune/exports/``."""
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
