"""The review queue: answers the AI judge scored low (an AI thumbs down, or the loser of an AI preference) or
whose citations the check flagged wait for people; each needs ``server.reviews_per_item`` human reviews from
different people. Shows inter-annotator and judge-human agreement."""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from ragtune.server.app import Annotator, AnnotatorPage, State, get_state, with_session

router = APIRouter()


def _latest_votes(feedback) -> dict[int, dict[str, str]]:
    """answer id -> {rater: its latest human thumbs}."""
    votes: dict[int, dict[str, str]] = defaultdict(dict)
    for fb in feedback:
        if fb.kind == "rating" and fb.source == "human":
            votes[fb.answer_id][fb.rater or f"anonymous-{fb.id}"] = fb.rating
    return votes


def queue_items(state: State, rater: str | None = None) -> dict[str, Any]:
    """The flagged answers with the reviews they have and still need; ``next`` is the first one ``rater`` has not
    reviewed yet."""
    store = state.project.feedback
    feedback = store.feedback()
    flags: dict[int, list[str]] = defaultdict(list)
    for fb in feedback:
        if fb.source != "ai":
            continue
        if fb.kind == "rating" and fb.rating == "down":
            flags[fb.answer_id].append(f"AI judge {fb.judge_model}: thumbs down")
        elif fb.kind == "preference" and fb.preferred in ("a", "b"):
            loser = fb.answer_b if fb.preferred == "a" else fb.answer_a
            flags[loser].append(f"AI judge {fb.judge_model}: lost a comparison")
    for a in store.answers()[-5000:]:
        if a.details.get("unsupported"):
            flags[a.id].append(f"citation check: {len(a.details['unsupported'])} unsupported sentence(s)")
    votes = _latest_votes(feedback)
    need = state.config.reviews_per_item
    items = []
    for aid in sorted(flags):
        reviewers = votes.get(aid, {})
        items.append({"answer_id": aid, "flags": flags[aid], "reviews": len(reviewers), "needed": need,
                      "reviewers": sorted(reviewers), "done": len(reviewers) >= need})
    pending = [i for i in items if not i["done"]]
    nxt = next((i for i in pending if rater is None or rater not in i["reviewers"]), None)
    return {"items": items, "pending": len(pending), "done": len(items) - len(pending), "next": nxt}


def agreement(state: State) -> dict[str, Any]:
    """Inter-annotator agreement (every pair of people who voted on the same answer) and judge-human agreement
    (AI thumbs against the human majority on an answer; AI preferences against human votes and preferences)."""
    from ragtune.training.judge import cohen_kappa, judge_agreement

    store = state.project.feedback
    feedback = store.feedback()
    votes = _latest_votes(feedback)
    pairs = [(x, y) for by_rater in votes.values() for x, y in combinations(sorted(by_rater.values()), 2)]
    ai: dict[int, str] = {}
    for fb in feedback:
        if fb.kind == "rating" and fb.source == "ai":
            ai[fb.answer_id] = fb.rating
    judged = []
    for aid, label in ai.items():
        ups = sum(v == "up" for v in votes.get(aid, {}).values())
        downs = len(votes.get(aid, {})) - ups
        if ups != downs:
            judged.append(("up" if ups > downs else "down", label))
    return {
        "annotators": {"pairs": len(pairs), "agreement": _share(pairs), "kappa": cohen_kappa(pairs, ("up", "down"))},
        "judge_votes": {"n": len(judged), "agreement": _share(judged), "kappa": cohen_kappa(judged, ("up", "down"))},
        "judge_preferences": judge_agreement(store),
    }


def _share(pairs: list[tuple[str, str]]) -> float | None:
    return sum(x == y for x, y in pairs) / len(pairs) if pairs else None


@router.get("/review", response_class=HTMLResponse)
async def review_page(request: Request, principal: AnnotatorPage):
    from ragtune.server.chat import stored_view

    state = get_state(request)
    queue = await run_in_threadpool(queue_items, state, principal.name)
    stats = await run_in_threadpool(agreement, state)
    item = None
    if queue["next"] is not None:
        item = await run_in_threadpool(stored_view, state, queue["next"]["answer_id"])
    return with_session(state.render(request, "review.html", principal, queue=queue, item=item,
                                     info=queue["next"], stats=stats), request)


@router.get("/api/review")
async def review_api(request: Request, principal: Annotator) -> dict[str, Any]:
    state = get_state(request)
    queue = await run_in_threadpool(queue_items, state, principal.name)
    return queue | {"agreement": await run_in_threadpool(agreement, state)}
