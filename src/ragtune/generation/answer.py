"""Cited answers: run a retrieval pipeline, generate from the retrieved chunks, cite and check them.
Decomposed questions are answered sub-question by sub-question, then synthesised."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ragtune.generation.citation_check import check_citations
from ragtune.generation.citations import Citation, attribute, extract_citations, strip_invalid_markers
from ragtune.generation.pricing import call_cost
from ragtune.generation.prompts import NO_ANSWER
from ragtune.generation.strategies import AnswerStrategy
from ragtune.llm import LLM, OnToken
from ragtune.retrieval.hybrid import Hit
from ragtune.retrieval.pipeline import Pipeline, QueryContext, trace_dicts
from ragtune.text import map_markers

if TYPE_CHECKING:
    from ragtune.config import Price
    from ragtune.index.embedder import Embedder
    from ragtune.index.store import Store


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
    pipeline: str = ""
    strategy: str = ""
    stages: list[dict] = field(default_factory=list)
    sub_answers: list[dict] = field(default_factory=list)
    citation_check: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    answer_id: int | None = None  # set when the answer is recorded in the feedback store

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def unsupported(self) -> list[str]:
        """The cited sentences the citation check found unsupported by their passages."""
        return [c["sentence"] for c in self.citation_check if not c["supported"]]


def chunk_record(hit: Hit) -> dict:
    c = hit.chunk
    return {"chunk_id": c.id, "source": c.doc_source, "page": c.page, "score": round(hit.score, 6),
            "bm25_score": hit.bm25_score, "dense_similarity": hit.dense_similarity, "text": c.text}


def is_refusal(text: str) -> bool:
    t = " ".join(text.lower().split())
    return not t or t.startswith(NO_ANSWER.lower()[:40]) or "do not contain the answer" in t


def relevance(embedder: Embedder, store: Store, ctx: QueryContext) -> float:
    """Best dense similarity of the question to what was retrieved (computed when the pipeline had none)."""
    if ctx.best_similarity is not None:
        return ctx.best_similarity
    if not ctx.hits:
        return 0.0
    vecs = embedder.embed_cached([h.chunk.text for h in ctx.hits], store)
    return float(np.max(vecs @ embedder.embed_query(ctx.question)))


class CitedAnswerer:
    """Answers questions with a pipeline and an answer strategy (``generate`` and ``extract+generate`` call the
    strategy's LLM); every LLM call is traced and priced by ``prices``. Below ``min_relevance`` (the best dense
    similarity of the question to the passages, by ``embedder`` over ``store``'s cache) it does not answer."""

    def __init__(self, pipeline: Pipeline, strategy: AnswerStrategy, embedder: Embedder, store: Store,
                 min_relevance: float, prices: dict[str, Price]) -> None:
        self.pipeline = pipeline
        self.strategy = strategy
        self.embedder = embedder
        self.store = store
        self.min_relevance = min_relevance
        self.prices = prices
        self.llm: LLM = strategy.llm

    def _generate(self, ctx: QueryContext, question: str, hits: list[Hit], stage: str, notes: str | None = None,
                  on_token: OnToken | None = None) -> str:
        return self.strategy.respond(question, [h.chunk for h in hits], ctx.trace, stage, notes, on_token, ctx.focus)

    def _finish(self, text: str, hits: list[Hit]) -> tuple[str, list[Citation]]:
        chunks = [h.chunk for h in hits]
        text = strip_invalid_markers(text, len(chunks))
        if not self.strategy.cites_itself:
            text = attribute(text, chunks)
        return text, extract_citations(text, chunks)

    def answer(self, question: str, top_k: int | None = None, filters: dict | None = None,
               on_token: OnToken | None = None) -> Answer:
        t0 = time.perf_counter()
        ctx = self.pipeline.run(question, top_k, filters)
        hits, sub_answers, notes = ctx.hits, [], None
        if ctx.sub_questions:
            hits, sub_answers = self._answer_parts(ctx, top_k, filters)
            notes = "Answers to sub-questions:\n" + "\n".join(f"- {s['question']} {s['answer']}" for s in sub_answers)
        answered = bool(hits) and relevance(self.embedder, self.store, ctx) >= self.min_relevance
        text, citations, checked = NO_ANSWER, [], []
        if answered:
            raw = self._generate(ctx, question, hits, "generate", notes, on_token)
            answered = not is_refusal(raw)
            if answered:
                text, citations = self._finish(raw, hits)
                checked = [asdict(c) for c in check_citations(text, [h.chunk for h in hits], self.embedder)]
        return Answer(
            question, text, citations, [chunk_record(h) for h in hits], ctx.usage,
            round(time.perf_counter() - t0, 4), round(self._cost(ctx), 8), self.llm.model_id, answered,
            self.pipeline.name, self.strategy.name, trace_dicts(ctx), sub_answers, checked, ctx.warnings,
        )

    def _answer_parts(self, ctx: QueryContext, top_k: int | None, filters: dict | None) -> tuple[list[Hit], list]:
        """Answer each sub-question with the rest of the pipeline; the final context is the union of their
        chunks (and the question's own), and sub-answer citations are renumbered into it."""
        union: dict[str, Hit] = {h.chunk.id: h for h in ctx.hits}
        parts = []
        for sub in ctx.sub_questions:
            sctx = self.pipeline.run(sub, top_k, filters, skip=("decompose", "router"))
            for t in sctx.trace:
                t.stage = f"{t.stage}[{len(parts) + 1}]"
            ctx.trace.extend(sctx.trace)
            raw = self._generate(ctx, sub, sctx.hits, f"generate[{len(parts) + 1}]") if sctx.hits else NO_ANSWER
            for h in sctx.hits:
                union.setdefault(h.chunk.id, h)
            parts.append((sub, raw, sctx.hits))
        hits = list(union.values())
        index = {h.chunk.id: i for i, h in enumerate(hits, start=1)}
        sub_answers = []
        for sub, raw, shits in parts:
            text, cites = self._finish(raw, shits) if not is_refusal(raw) else (NO_ANSWER, [])
            text = map_markers(text, {c.n: index[c.chunk_id] for c in cites}.get)  # cites: all of text's markers
            sub_answers.append({"question": sub, "answer": text, "answered": not is_refusal(raw),
                                "chunk_ids": [h.chunk.id for h in shits]})
        return hits, sub_answers

    def _cost(self, ctx: QueryContext) -> float:
        """All LLM calls of the answer (pre-retrieval, reranking, generation) at this model's price."""
        return sum(call_cost(self.prices, self.llm.model_id, t.prompt_tokens, t.completion_tokens,
                             t.llm_seconds) for t in ctx.trace)


