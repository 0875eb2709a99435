"""Multi-document analysis: questions that span documents ("compare the termination clauses") answered by
a per-document map (retrieve that document's chunks for the aspect, answer with an answer strategy: the
quoted clause for ``extract`` and ``extract+generate``, an LLM summary for ``generate``) and a reduce (one
comparison row per document, key terms found by a graph extractor of no LLM, and an overall synthesis that cites
the rows: by the LLM with ``generate``, else a template of the key terms). Empty generations are retried, then
degrade (extractive summary, template synthesis) with a warning; uncited summaries are replaced by the cited
sentences they could not point to."""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ragtune.documents.chunkers.base import sentences
from ragtune.documents.models import Chunk
from ragtune.errors import InputError
from ragtune.generation.answer import chunk_record, is_refusal, relevance
from ragtune.generation.citation_check import check_citations
from ragtune.generation.citations import Citation, attribute, extract_citations, strip_invalid_markers
from ragtune.generation.pricing import call_cost
from ragtune.generation.prompts import grounded_messages
from ragtune.generation.strategies import AnswerStrategy
from ragtune.generation.strategies.generate import Generate
from ragtune.generation.strategies.selection import quote
from ragtune.index.store import glob_escape
from ragtune.retrieval.pipeline import QueryContext, StageTrace, generate_traced
from ragtune.text import MARKER, content_words, insert_marker, strip_markers

if TYPE_CHECKING:
    from ragtune.config import Price
    from ragtune.generation.config import CompareConfig
    from ragtune.index.embedder import Embedder
    from ragtune.index.graph.extractors import Extractor
    from ragtune.index.store import Store
    from ragtune.retrieval.pipeline import Pipeline

# What the strategies are asked (and the sentences scored against), unless the answer pack words it
# (``compare.question``: the contracts pack's "What are the {aspect} provisions of this agreement?").
QUESTION = "What does this document say about {aspect}?"
MAP_QUESTION = "In two or three sentences, what does this document say about {aspect}?"  # generate's summary
REDUCE_SYSTEM = ("You compare documents using only the numbered summaries. Cite the documents you mention with "
                 "their numbers in square brackets, like [1] or [2][3].")
REDUCE_USER = ("Aspect: {aspect}\n\nSummaries:\n{summaries}\n\nIn three to five sentences, compare the documents on "
               "this aspect: what they have in common and how they differ.\nComparison:")
DEGRADED = ("extractive", "not_found")  # row methods flagged to the reader


@dataclass
class DocumentRow:
    """One document's row: its cited summary of the aspect (``method``: the strategy that wrote it, extract or
    extract+generate; llm for generate; extractive or not_found when it degraded)."""

    n: int
    source: str
    title: str
    summary: str
    method: str
    citations: list[Citation]
    key_terms: list[str]
    chunks: list[dict]
    quotes: list[str] = field(default_factory=list)
    uncited: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)


@dataclass
class Comparison:
    aspect: str
    rows: list[DocumentRow]
    synthesis: str
    synthesis_method: str
    synthesis_cites: list[int]
    usage: dict[str, int]
    latency_s: float
    cost_usd: float
    model: str | None
    pipeline: str
    strategy: str
    stages: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_markdown(self) -> str:
        """A comparison table (one row per document), the synthesis, then each row's cited passages."""
        def cell(text: str) -> str:
            return " ".join(text.replace("|", "\\|").split())

        lines = [f"## Comparison: {self.aspect} ({self.strategy})", "", "| # | document | summary | key terms |",
                 "|---|---|---|---|"]
        lines += [f"| {r.n} | {cell(r.title)} | {cell(r.summary)}{_flags(r)} | {cell('; '.join(r.key_terms)) or '-'} |"
                  for r in self.rows]
        lines += ["", f"**Synthesis** ({self.synthesis_method}; [n] = row n): {self.synthesis}", "",
                  "### Citations", ""]
        for r in self.rows:
            for c, said in zip(r.citations, r.quotes, strict=True):
                page = f", page {c.page}" if c.page is not None else ""
                lines.append(f"- row {r.n} [{c.n}] `{c.source}`{page}, chunk `{c.chunk_id}`: \"{cell(said)}\"")
        return "\n".join(lines) + "\n"


def _flags(row: DocumentRow) -> str:
    """Notes for the reader: a degraded row's method, and sentences the row does not back with a passage."""
    notes = [row.method] if row.method in DEGRADED else []
    if row.uncited:
        notes.append(f"{len(row.uncited)} sentence(s) without citation")
    if row.unsupported:
        notes.append(f"{len(row.unsupported)} cited sentence(s) not supported by the passage")
    return f" _({'; '.join(notes)})_" if notes else ""


def select_documents(sources: list[str], patterns: list[str] | None) -> list[str]:
    """Stored sources matching any pattern (globs on the source path, or its file name); every pattern must
    match something."""
    if not patterns:
        return sorted(sources)
    chosen: set[str] = set()
    for pattern in patterns:
        hits = [s for s in sources if s == pattern or fnmatch.fnmatchcase(s, pattern)
                or fnmatch.fnmatchcase(s.rsplit("/", 1)[-1], pattern)]
        if not hits:
            raise InputError(f"--docs {pattern!r} matches no indexed document")
        chosen.update(hits)
    return sorted(chosen)


def _sentence_texts(text: str) -> list[str]:
    """The sentences of ``text`` (the chunkers' splitter), white space folded."""
    return [" ".join(text[a:b].split()) for a, b in sentences(text, (0, len(text)))]


def _stems(aspect: str) -> set[str]:
    return {w[:6] for w in content_words(aspect)}


def key_terms(aspect: str, chunks: list[Chunk], extractor: Extractor) -> list[str]:
    """The values ``extractor`` (a graph extractor of no LLM) finds in the sentences that mention the aspect, as
    "<relation label>: <value>" (the generic rules: "mentions: $25,000"), leaving out the names of organisations
    and people and the extractor's ``name_relations``."""
    stems = _stems(aspect)
    relevant = [s for c in chunks for s in _sentence_texts(c.text) if any(st in s.lower() for st in stems)]
    if not relevant:
        return []
    probe = Chunk("probe", "", " ".join(relevant), 0, 0, None, 0)
    found = extractor.extract(probe)
    names = {e.name for e in found.entities if e.type in ("organization", "person")}
    terms = [f"{r.type.replace('_', ' ')}: {r.target}" for r in found.relations
             if r.type not in extractor.name_relations and r.target not in names]
    return list(dict.fromkeys(terms))[:6]


def cited_sentence(chunk: Chunk, summary: str, aspect: str, limit: int = 300) -> str:
    """The sentence of ``chunk`` a citation in ``summary`` points to: one the summary quotes, else one naming
    the aspect, else the one sharing most content words with the summary."""
    said = " ".join(strip_markers(summary).split())
    words, stems = content_words(said), _stems(aspect)
    best = max(_sentence_texts(chunk.text) or [" ".join(chunk.text.split())], key=lambda s: (
        s.rstrip(".") in said, any(st in s.lower() for st in stems), len(words & content_words(s))))
    return best if len(best) <= limit else best[: limit - 1] + "…"


class DocumentComparer:
    """Map (per document, with an answer strategy) and reduce (across documents). ``pipelines`` resolves a
    pipeline name or spec (None: the default); ``extractor`` (a graph extractor of no LLM) reads the key terms;
    ``min_relevance``, ``prices`` and ``seed`` are the project's."""

    def __init__(self, pipelines: Callable[[str | None], Pipeline], store: Store, embedder: Embedder,
                 strategy: AnswerStrategy, extractor: Extractor, config: CompareConfig, min_relevance: float,
                 prices: dict[str, Price], seed: int) -> None:
        self.pipelines = pipelines
        self.store = store
        self.embedder = embedder
        self.config = config
        self.min_relevance = min_relevance
        self.prices = prices
        self.seed = seed
        self.strategy = strategy
        self.extractor = extractor
        self.llm = strategy.llm
        self.trace: list[StageTrace] = []
        self.warnings: list[str] = []

    def _warn(self, message: str) -> None:
        self.warnings.append(message)

    def _generate(self, messages: list[dict[str, str]], stage: str, max_tokens: int) -> str:
        return generate_traced(self.llm, messages, stage, max_tokens, self.config.retries,
                               self.seed, self.trace)

    def compare(self, aspect: str, docs: list[str] | None = None, top_k: int | None = None,
                pipeline: str | None = None, on_start: Callable[[int], None] | None = None,
                on_document: Callable[[str], None] | None = None) -> Comparison:
        t0 = time.perf_counter()
        if not aspect.strip():
            raise InputError("the aspect to compare is empty")
        if self.store.count_chunks() == 0:
            raise InputError("the index is empty: run `ragtune ingest PATH` first")
        stored = self.store.documents()
        sources = select_documents(list(stored), docs)
        if on_start:
            on_start(len(sources) + 1)
        pipe = self.pipelines(pipeline or self.config.pipeline)
        rows = []
        for n, source in enumerate(sources, start=1):
            ctx = pipe.run(aspect, top_k or self.config.top_k, {"source": glob_escape(source)})
            for t in ctx.trace:
                t.stage = f"{t.stage}[{n}]"
            self.trace.extend(ctx.trace)
            self.warnings.extend(ctx.warnings)
            rows.append(self._map(n, aspect, source, stored[source].title or source, ctx))
            if on_document:
                on_document(source)
        synthesis, method, cites = self._reduce(aspect, rows)
        if on_document:
            on_document("synthesis")
        cost = sum(call_cost(self.prices, self.llm.model_id, t.prompt_tokens, t.completion_tokens,
                             t.llm_seconds) for t in self.trace)
        usage = {"prompt_tokens": sum(t.prompt_tokens for t in self.trace),
                 "completion_tokens": sum(t.completion_tokens for t in self.trace)}
        return Comparison(aspect, rows, synthesis, method, cites, usage, round(time.perf_counter() - t0, 4),
                          round(cost, 8), self.llm.model_id, pipe.name, self.strategy.name,
                          [asdict(t) for t in self.trace], self.warnings)

    def _map(self, n: int, aspect: str, source: str, title: str, ctx: QueryContext) -> DocumentRow:
        """The row of one document: the strategy's answer to ``QUESTION`` (in the pack's wording; ``generate``:
        compare's own summary prompt, length and retries), else the sentences closest to it; ``not_found`` when
        nothing is relevant."""
        chunks = [h.chunk for h in ctx.hits]
        records = [chunk_record(h) for h in ctx.hits]
        question = self.strategy.pack.prompt("compare.question", QUESTION).format(aspect=aspect)
        relevant = any(h.bm25_score for h in ctx.hits) or (
            bool(chunks) and relevance(self.embedder, self.store, ctx) >= self.min_relevance)
        if not relevant:
            return DocumentRow(n, source, title, f"Nothing in this document addresses {aspect}.", "not_found", [], [],
                               records)
        if isinstance(self.strategy, Generate):
            text, method = self._generate(grounded_messages(MAP_QUESTION.format(aspect=aspect), chunks),
                                          f"map[{n}]", self.config.map_max_tokens), "llm"
        else:
            text, method = self.strategy.respond(question, chunks, self.trace, f"map[{n}]"), self.strategy.name
        citations: list[Citation] = []
        if not text or is_refusal(text):
            self._warn(f"compare: {title}: the model wrote {'nothing' if not text else 'a refusal'} although "
                       "relevant passages were found; showing the most relevant sentences instead")
        else:
            text = attribute(strip_invalid_markers(text, len(chunks)), chunks)
            citations = extract_citations(text, chunks)
            if not citations:
                self._warn(f"compare: {title}: the summary could not be tied to any passage; showing the most "
                           "relevant sentences instead")
        if not citations:
            selected = self.strategy.selector.select(question, chunks)
            text = quote(selected) or insert_marker(" ".join(chunks[0].text.split())[:300], 1)
            method, citations = "extractive", extract_citations(text, chunks)
        checked = check_citations(text, chunks, self.embedder)
        uncited = [s for s in _sentence_texts(text) if not MARKER.search(s)]
        return DocumentRow(n, source, title, text, method, citations, key_terms(aspect, chunks, self.extractor),
                           records, [cited_sentence(chunks[c.n - 1], text, aspect) for c in citations], uncited,
                           [c.sentence for c in checked if not c.supported])

    def _reduce(self, aspect: str, rows: list[DocumentRow]) -> tuple[str, str, list[int]]:
        """(synthesis, method, cited row numbers): the LLM's comparison of the summaries with ``generate``, else
        (and when the LLM writes none) a template that states nothing but the rows' key terms: a small model's
        free-form comparison of quoted clauses adds claims they do not make."""
        found = [r for r in rows if r.method != "not_found"]
        summaries = "\n".join(f"[{r.n}] {r.title}: {strip_markers(r.summary).strip()}" for r in rows)
        text = ""
        if len(found) >= 2 and isinstance(self.strategy, Generate):
            text = self._generate([{"role": "system", "content": REDUCE_SYSTEM},
                                   {"role": "user", "content": REDUCE_USER.format(aspect=aspect, summaries=summaries)}],
                                  "reduce", self.config.reduce_max_tokens)
            if not text or is_refusal(text):
                self._warn("compare: the model wrote no comparison; using a template synthesis")
                text = ""
        if text:
            pseudo = [Chunk(str(r.n), r.source, f"{r.title} {r.summary}", 0, 0, None, 0) for r in rows]
            text = attribute(strip_invalid_markers(text, len(rows)), pseudo)
            return text, "llm", [c.n for c in extract_citations(text, pseudo)]
        return self._template(aspect, rows), "template", [r.n for r in found]

    @staticmethod
    def _template(aspect: str, rows: list[DocumentRow]) -> str:
        found = [r for r in rows if r.method != "not_found"]
        missing = [r for r in rows if r.method == "not_found"]
        parts = [f"{len(found)} of {len(rows)} documents address {aspect}."]
        parts += [f"{r.title}: {'; '.join(r.key_terms) or 'see its summary'} [{r.n}]." for r in found]
        if missing:
            parts.append("Not addressed in: " + ", ".join(r.title for r in missing) + ".")
        return " ".join(parts)
