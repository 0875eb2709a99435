"""The review queue page: the next flagged answer the signed-in person has not reviewed, with inter-annotator and
judge-human agreement (``review_stats``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from ragtune.server.deps import Annotator, AnnotatorPage, get_state
from ragtune.server.review_stats import agreement, queue_items
from ragtune.server.views import stored_view

router = APIRouter()


@router.get("/review", response_class=HTMLResponse)
async def review_page(request: Request, principal: AnnotatorPage):
    state = get_state(request)
    queue = await run_in_threadpool(queue_items, state, principal.name)
    stats = await run_in_threadpool(agreement, state, True)
    item = None
    if queue["next"] is not None:
        item = await run_in_threadpool(stored_view, state, queue["next"]["answer_id"])
    return state.render(request, "review.html", principal, queue=queue, item=item, info=queue["next"], stats=stats)


@router.get("/api/review")
async def review_api(request: Request, principal: Annotator) -> dict[str, Any]:
    state = get_state(request)
    queue = await run_in_threadpool(queue_items, state, principal.name)
    return queue | {"agreement": await run_in_threadpool(agreement, state, True)}
