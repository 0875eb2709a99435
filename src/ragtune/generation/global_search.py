"""Global search for corpus-wide questions ("which contracts are governed by Delaware law?"), after GraphRAG:
the knowledge graph's communities (Louvain, computed at build time) are described by their facts, summarised
by the LLM once (cached by content and model in ``.ragtune/graph/communities.json``), the communities closest
to the question are mapped to notes that answer it, and the notes are reduced to one answer citing them (by
the LLM with the ``generate`` strategy; the extractive ones quote the best note and fact sentences).
Empty or unusable generations are retried, then degrade (the facts stand in for a summary, the notes for an
answer that rests on none of them) with a warning."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ragtune.documents.models import Chunk
from ragtune.generation.answer import is_refusal
from ragtune.generation.citations import attribute, extract_citations, strip_invalid_markers
from ragtune.generation.pricing import call_cost
from ragtune.generation.prompts import NO_ANSWER
from ragtune.generation.strategies import AnswerStrategy
from ragtune.generation.strategies.generate import Generate
from ragtune.index.graph.knowledge_graph import KnowledgeGraph, atomic_write_text, read_json
from ragtune.retrieval.pipeline import StageTrace, generate_traced
from ragtune.text import content_words

if TYPE_CHECKING:
    from ragtune.config import Price
    from ragtune.index.embedder import Embedder
    from ragtune.index.graph.config import GraphConfig
    from ragtune.index.store import Store

PROMPT_VERSION = 1
SUMMARY_PROMPT = ("Facts extracted from documents:\n{facts}\n\nIn two to four sentences, summarise what these facts "
                  "say: name the documents, who is involved and the key terms.\nSummary:")
MAP_PROMPT = ("Facts:\n{facts}\n\nSummary:\n{summary}\n\nQuestion: {question}\nIn one to three sentences, write what "
              "the facts and the summary say that helps answer the question. If nothing helps, reply NONE.\nNotes:")
REDUCE_SYSTEM = ("You answer questions about a collection of documents using only the numbered notes. Cite the notes "
                 "you use with their numbers in square brackets, like [1] or [2][3]. If the notes do not answer "
                 f"the question, reply exactly: {NO_ANSWER}")
_MAX_FACTS = 30


@dataclass
class Fact:
    """One relation of the graph as a line of text, with the chunks that support it."""

    text: str
    chunk_ids: list[str]
    documents: list[str]


@dataclass
class Community:
    """A group of densely connected nodes, described by its facts (relations) and, once asked, a summary."""

    id: int
    title: str
    facts: list[Fact]
    documents: list[str]
    size: int
    summary: str = ""
    summary_by: str = ""  # llm, cache or facts

    @property
    def facts_text(self) -> str:
        return "\n".join(f"- {f.text}" for f in self.facts)

    @property
    def chunk_ids(self) -> list[str]:
        return list(dict.fromkeys(c for f in self.facts for c in f.chunk_ids))


def _name(graph: KnowledgeGraph, node: str) -> str:
    d = graph.node(node)
    return d["name"] if d["type"] != "document" else f"document {d['name']}"


def communities(graph: KnowledgeGraph) -> list[Community]:
    """Communities with at least one relation, their facts ordered by how many chunks support them."""
    out = []
    for cid, members in sorted(graph.communities().items()):
        member_set = set(members)
        edges = sorted({(u, v, k): d for u, v, k, d in graph.graph.edges(members, keys=True, data=True)}.items(),
                       key=lambda kv: (-len(kv[1]["chunk_ids"]), kv[0]))
        edges += sorted({(u, v, k): d for u, v, k, d in graph.graph.in_edges(members, keys=True, data=True)
                         if u not in member_set}.items(), key=lambda kv: (-len(kv[1]["chunk_ids"]), kv[0]))
        facts: dict[str, Fact] = {}
        for (u, v, _), d in edges:
            role = f" as {', '.join(d['roles'])}" if d["roles"] else ""
            text = f"{_name(graph, u)} {d['type'].replace('_', ' ')} {_name(graph, v)}{role}"
            facts.setdefault(text, Fact(text, d["chunk_ids"][:5], d["sources"]))
            if len(facts) == _MAX_FACTS:
                break
        if not facts:
            continue
        ranked = sorted(members, key=lambda n: (-graph.graph.degree(n), n))
        title = ", ".join(graph.node(n)["name"] for n in ranked[:3])
        documents = sorted({s for n in members for s in graph.node(n)["sources"]})
        out.append(Community(cid, title, list(facts.values()), documents, len(members)))
    return out


def focus(facts: list[Fact], question: str, limit: int = 15) -> list[Fact]:
    """The ``limit`` facts sharing most words with the question, most first (ties keep their order)."""
    words = content_words(question)
    return sorted(facts, key=lambda f: -len(words & content_words(f.text)))[:limit]


@dataclass
class GlobalAnswer:
    """The answer citing community notes ``[n]``, and ``facts``: the graph's relations closest to the
    question with their supporting chunks, checkable whatever the model wrote."""

    question: str
    answer: str
    answered: bool
    citations: list[dict]
    facts: list[dict]
    communities: list[dict]
    usage: dict[str, int]
    latency_s: float
    cost_usd: float
    model: str | None
    stages: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class GlobalSearch:
    """Map-reduce over community summaries (``index.graph.global_communities`` communities per question); the
    final answer by ``strategy``. ``graph`` gives the knowledge graph and warnings about it; community
    summaries are cached in ``cache_path``; ``prices`` and ``seed`` are the project's."""

    def __init__(self, graph: Callable[[], tuple[KnowledgeGraph, list[str]]], store: Store, embedder: Embedder,
                 strategy: AnswerStrategy, config: GraphConfig, prices: dict[str, Price], seed: int,
                 cache_path: Path) -> None:
        self.graph = graph
        self.store = store
        self.embedder = embedder
        self.config = config
        self.prices = prices
        self.seed = seed
        self.strategy = strategy
        self.llm = strategy.llm
        self.trace: list[StageTrace] = []
        self.warnings: list[str] = []
        self.cache_path = cache_path

    def _generate(self, messages: list[dict[str, str]], stage: str, max_tokens: int, retries: int = 1) -> str:
        return generate_traced(self.llm, messages, stage, max_tokens, retries, self.seed,
                               self.trace)

    def _summarise(self, community: Community) -> None:
        """The community's summary from the cache, else from the LLM (cached), else its facts."""
        cache = read_json(self.cache_path, {})
        key = hashlib.sha256(f"v{PROMPT_VERSION}\0{self.llm.model_id}\0{self.config.summary_max_tokens}\0"
                             f"{community.facts_text}".encode()).hexdigest()
        if key in cache:
            community.summary, community.summary_by = cache[key], "cache"
            return
        text = self._generate([{"role": "user", "content": SUMMARY_PROMPT.format(facts=community.facts_text)}],
                              f"summary[{community.id}]", self.config.summary_max_tokens)
        if not text or is_refusal(text):
            self.warnings.append(f"global: community {community.id} ({community.title}): no summary from the model; "
                                 "using its facts")
            community.summary, community.summary_by = community.facts_text, "facts"
            return
        community.summary, community.summary_by = text, "llm"
        cache[key] = text
        atomic_write_text(self.cache_path, json.dumps(cache, ensure_ascii=False))

    def _rank(self, question: str, graph: KnowledgeGraph, found: list[Community]) -> list[tuple[Community, float]]:
        """Communities by similarity of their facts to the question, boosted when they hold an entity the
        question names."""
        from ragtune.index.graph.search import LocalGraphSearch

        named = {m.node for m in LocalGraphSearch(graph).match(question)}
        members = graph.communities()
        emb = self.embedder
        sims = emb.embed_cached([c.facts_text for c in found], self.store) @ emb.embed_query(question)
        scores = [float(s) + 0.3 * len(named & set(members.get(c.id, []))) for c, s in zip(found, sims, strict=True)]
        order = np.argsort(-np.asarray(scores), kind="stable")[: self.config.global_communities]
        return [(found[i], round(scores[i], 4)) for i in order]

    def _reduce(self, question: str, notes: list[tuple[Community, str]]) -> tuple[str, list[Chunk]]:
        """The final answer citing the notes as [n] ("" if none), and the notes as passages. ``generate``: the LLM
        answers from the notes; the extractive strategies quote the note and fact sentences that answer best."""
        def passage(community: Community, text: str) -> Chunk:
            return Chunk(str(community.id), ", ".join(community.documents), text, 0, 0, None, 0)

        if isinstance(self.strategy, Generate):
            pseudo = [passage(c, f"{c.summary} {note}") for c, note in notes]
            listing = "\n".join(f"[{i}] {note}" for i, (_, note) in enumerate(notes, start=1))
            raw = self._generate([{"role": "system", "content": REDUCE_SYSTEM},
                                  {"role": "user", "content": f"Notes:\n{listing}\n\nQuestion: {question}\nAnswer:"}],
                                 "reduce", self.config.answer_max_tokens)
        else:
            pseudo = [passage(c, "\n\n".join([note, *(f"{f.text}." for f in focus(c.facts, question))]))
                      for c, note in notes]
            raw = self.strategy.respond(question, pseudo, self.trace, "reduce")
        return attribute(strip_invalid_markers(raw, len(notes)), pseudo) if raw and not is_refusal(raw) else "", pseudo

    def answer(self, question: str) -> GlobalAnswer:
        t0 = time.perf_counter()
        graph, warnings = self.graph()
        self.warnings.extend(f"global: {w}" for w in warnings)
        found = communities(graph)
        ranked = self._rank(question, graph, found) if found else []
        notes: list[tuple[Community, str]] = []
        for community, _ in ranked:
            self._summarise(community)
            summary = community.summary if community.summary_by != "facts" else "(none)"
            shown = "\n".join(f"- {f.text}" for f in focus(community.facts, question))
            prompt = MAP_PROMPT.format(facts=shown, summary=summary, question=question)
            note = self._generate([{"role": "user", "content": prompt}],
                                  f"map[{community.id}]", self.config.answer_max_tokens // 2, retries=0)
            if note and not re.match(r"\W*none\b", note, re.IGNORECASE) and not is_refusal(note):
                notes.append((community, note))
        text, citations = NO_ANSWER, []
        if notes:
            text, pseudo = self._reduce(question, notes)
            cites = extract_citations(text, pseudo)
            if not cites:
                self.warnings.append("global: the model's final answer is empty or rests on none of the notes; "
                                     "showing the community notes")
                text = " ".join(f"{' '.join(note.split())} [{i}]" for i, (_, note) in enumerate(notes, start=1))
                cites = extract_citations(text, pseudo)
            for cite in cites:
                c = notes[cite.n - 1][0]
                citations.append({"n": cite.n, "community": c.id, "title": c.title, "documents": c.documents,
                                  "chunk_ids": c.chunk_ids[:5]})
        cost = sum(call_cost(self.prices, self.llm.model_id, t.prompt_tokens, t.completion_tokens,
                             t.llm_seconds) for t in self.trace)
        noted = {c.id: n for c, n in notes}
        evidence = focus([f for c, _ in ranked for f in c.facts], question, self.config.global_facts)
        return GlobalAnswer(
            question, text, bool(notes), citations, [asdict(f) for f in evidence],
            [{"community": c.id, "title": c.title, "score": s, "size": c.size, "documents": c.documents,
              "summary": c.summary, "summary_by": c.summary_by, "note": noted.get(c.id)} for c, s in ranked],
            {"prompt_tokens": sum(t.prompt_tokens for t in self.trace),
             "completion_tokens": sum(t.completion_tokens for t in self.trace)},
            round(time.perf_counter() - t0, 4), round(cost, 8), self.llm.model_id,
            [asdict(t) for t in self.trace], self.warnings)
