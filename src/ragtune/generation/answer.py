"""Answers grounded in retrieved chunks, with citations, usage, latency and cost."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ragtune.generation.citations import Citation, attribute, extract_citations, strip_invalid_markers
from ragtune.generation.llms.base import Generation
from ragtune.generation.prompts import NO_ANSWER
from ragtune.retrieval.hybrid import Hit


@dataclass
class Answer:
    question: str
    answer: str
    citations: list[Citation]
    chunks: list[dict]
    usage: dict[str, int]
    latency_s: float
    cost_usd: float
    model: str | None
    answered: bool
    stages: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def chunk_record(hit: Hit) -> dict:
    c = hit.chunk
    return {"chunk_id": c.id, "source": c.doc_source, "page": c.page, "score": round(hit.score, 6),
            "bm25_score": hit.bm25_score, "dense_similarity": hit.dense_similarity, "text": c.text}


def is_refusal(text: str) -> bool:
    t = " ".join(text.lower().split())
    return not t or t.startswith(NO_ANSWER.lower()[:40]) or "do not contain the answer" in t


def finish_answer(question: str, hits: list[Hit], gen: Generation | None, cost: float,
                  stages: dict[str, float]) -> Answer:
    """Turn a generation into an Answer: validate markers, attribute uncited sentences, map citations."""
    chunks = [h.chunk for h in hits]
    records = [chunk_record(h) for h in hits]
    if gen is None or is_refusal(gen.text):
        return Answer(question, NO_ANSWER, [], records,
                      gen.usage if gen else {"prompt_tokens": 0, "completion_tokens": 0},
                      round(sum(stages.values()), 4), cost, gen.model if gen else None, False, stages)
    text = attribute(strip_invalid_markers(gen.text.strip(), len(chunks)), chunks)
    return Answer(question, text, extract_citations(text, chunks), records, gen.usage,
                  round(sum(stages.values()), 4), cost, gen.model, True, stages)
