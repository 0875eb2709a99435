"""Recording an answer that is shown: the one place that decides what a stored answer carries, whoever shows it
(``ragtune ask``, ``Project.ask(record=True)``, the web app and the API)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ragtune.feedback.store import FeedbackStore


class ShownAnswer(Protocol):
    """What is recorded of an answer (``ragtune.generation.answer.Answer`` is one)."""

    question: str
    answer: str
    chunks: list[dict]
    usage: dict[str, int]
    latency_s: float
    cost_usd: float
    answered: bool
    pipeline: str
    strategy: str
    citation_check: list[dict]

    @property
    def unsupported(self) -> list[str]: ...


def record_shown(store: FeedbackStore, answer: ShownAnswer, model: str | None,
                 details: dict[str, Any] | None = None) -> int:
    """Store ``answer`` as written by ``model`` (a registry version id or the LLM's name); returns its id. With it
    go its usage, cost, latency, whether it answered, the strategy, the citation check and the sentences the check
    found unsupported (what puts the answer in the review queue), then ``details`` (the request's: ``via``, a blind
    comparison's side, ...)."""
    return store.record_answer(
        answer.question, answer.answer, answer.chunks, model=model, pipeline=answer.pipeline,
        details={"usage": answer.usage, "cost_usd": answer.cost_usd, "latency_s": answer.latency_s,
                 "answered": answer.answered, "strategy": answer.strategy, "citation_check": answer.citation_check,
                 "unsupported": answer.unsupported, **(details or {})})
