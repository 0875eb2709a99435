"""The review queue and the agreement figures, from SQL aggregates of the feedback store (computed again only
after an answer or feedback was added, ``State.derived``): answers the AI judge
scored low (an AI thumbs down, or the loser of an AI preference) or whose citations the check flagged wait for
people; each needs ``server.reviews_per_item`` human reviews from different people."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ragtune.server.deps import State


def queue_items(state: State, rater: str | None = None, stale_ok: bool = False) -> dict[str, Any]:
    """The flagged answers with the reviews they have and still need; ``next`` is the first one ``rater`` has not
    reviewed yet (``stale_ok``: as last computed, for the dashboard; ``State.derived``)."""
    items = state.derived("review_items", lambda: _items(state), stale_ok)
    pending = [i for i in items if not i["done"]]
    nxt = next((i for i in pending if rater is None or rater not in i["reviewers"]), None)
    return {"items": items, "pending": len(pending), "done": len(items) - len(pending), "next": nxt}


def _items(state: State) -> list[dict[str, Any]]:
    store = state.project.feedback
    flags = store.review_flags()
    votes = store.reviewers(flags)
    need = state.config.reviews_per_item
    return [{"answer_id": aid, "flags": flags[aid], "reviews": len(votes.get(aid, [])), "needed": need,
             "reviewers": votes.get(aid, []), "done": len(votes.get(aid, [])) >= need} for aid in sorted(flags)]


def agreement(state: State, stale_ok: bool = False) -> dict[str, Any]:
    """Inter-annotator agreement (every pair of people who voted on the same answer) and judge-human agreement
    (AI thumbs against the human majority on an answer; AI preferences against human votes and preferences); kept
    until the store changes, like the queue's items."""
    return state.derived("agreement", lambda: _agreement(state), stale_ok)


def _agreement(state: State) -> dict[str, Any]:
    from ragtune.training.judge import cohen_kappa, judge_agreement

    store = state.project.feedback
    counted = store.vote_agreement()

    def figures(pairs: Counter[tuple[str, str]], n_key: str) -> dict[str, Any]:
        listed = list(pairs.elements())
        return {n_key: len(listed), "agreement": _share(listed), "kappa": cohen_kappa(listed, ("up", "down"))}

    return {"annotators": figures(counted["annotators"], "pairs"), "judge_votes": figures(counted["judge_votes"], "n"),
            "judge_preferences": judge_agreement(store)}


def _share(pairs: list[tuple[str, str]]) -> float | None:
    return sum(x == y for x, y in pairs) / len(pairs) if pairs else None
