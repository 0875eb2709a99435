"""What the templates show of an answer: its sentences split into text and [n] links, the unsupported ones marked,
and its cited passages with the cited span cut out for highlighting (the chat, comparison and review pages)."""

from __future__ import annotations

from typing import Any

from ragtune.server import answers
from ragtune.server.deps import State
from ragtune.text import split_at_markers, strip_markers


def answer_view(answer_id: int | None, question: str, text: str, chunks: list[dict], unsupported: list[str],
                model: str | None = None, pipeline: str | None = None, blind: bool = False) -> dict[str, Any]:
    """An answer for ``_answer.html``: sentences split into text and [n] links, unsupported ones marked, and the
    cited passages with the cited span cut out for highlighting. Every string is escaped by the template."""
    flagged = {" ".join(s.split()) for s in unsupported}
    sentences = []
    for s in answers.sentences(text):
        plain = " ".join(strip_markers(s).split())
        parts = [("cite", p) if isinstance(p, int) else ("text", p) for p in split_at_markers(s)]
        sentences.append({"parts": parts, "unsupported": plain in flagged})
    cited = {c["index"]: c for c in answers.citations(text, chunks)}
    sources = []
    for n, c in enumerate(chunks, start=1):
        span = cited.get(n, {}).get("span")
        body = c["text"]
        pieces = (body[:span[0]], body[span[0]:span[1]], body[span[1]:]) if span else (body, "", "")
        sources.append({"n": n, "source": c.get("source"), "page": c.get("page"), "chunk_id": c.get("chunk_id"),
                        "score": c.get("score"), "cited": n in cited, "before": pieces[0], "mark": pieces[1],
                        "after": pieces[2]})
    return {"id": answer_id, "question": question, "text": text, "sentences": sentences, "sources": sources,
            "unsupported": list(unsupported), "model": None if blind else model,
            "pipeline": None if blind else pipeline, "blind": blind}


def stored_view(state: State, answer_id: int, blind: bool = False) -> dict[str, Any]:
    a = state.project.feedback.answer(answer_id)
    return answer_view(a.id, a.question, a.answer, [c.model_dump() for c in a.context],
                       a.details.get("unsupported", []), a.model, a.pipeline, blind)
