"""Retrieval evaluation on a BEIR folder: nDCG@10, Recall@10/100, MRR@10 and MAP (ranx), per-stage latency,
and span-level precision/recall where the folder has gold character spans.

The corpus is indexed once into a scratch index (``ScratchIndex``: ``ragtune.project.retrieval_evaluation``
opens one as an in-memory project) keyed by the content hash of ``corpus.jsonl`` and the
chunker and embedder settings, so later runs (other pipelines, other settings of retrieval) reuse it.
Each corpus record becomes one document; a record's title heads every one of its chunks (as BEIR models
encode "title text"). BEIR relevance is per corpus record, so retrieved chunks map to their record, first
occurrence kept."""

from __future__ import annotations

import hashlib
import json
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ragtune.datasets.beir import BeirDataset, CorpusDoc, file_sha256, load_beir
from ragtune.errors import InputError
from ragtune.evaluation.spans import span_precision_recall

METRICS = ["ndcg@10", "recall@10", "recall@100", "mrr@10", "map"]
INDEX_FORMAT = 1  # bump when the way a corpus is turned into chunks changes
Progress = Callable[[int], None]
Advance = Callable[[str], None]

if TYPE_CHECKING:
    from ragtune.documents.chunkers import Chunker
    from ragtune.index.bm25 import BM25Index
    from ragtune.index.embedder import Embedder
    from ragtune.index.store import Store
    from ragtune.index.vector_index import VectorIndex
    from ragtune.retrieval.pipeline import Pipeline


class ScratchIndex(Protocol):
    """What an evaluation uses of the index it fills and searches (a ``Project`` is one)."""

    store: Store
    bm25: BM25Index
    vectors: VectorIndex
    embedder: Embedder
    chunker: Chunker

    def pipeline(self, spec: str | None = None) -> Pipeline: ...

    def close(self) -> None: ...


@dataclass
class IndexInfo:
    """The scratch index: where it is, its size, and what this run had to (re)index."""

    path: str
    documents: int
    chunks: int
    documents_indexed: int
    seconds: float


@dataclass
class PipelineResult:
    """One row of the table: IR metrics, span metrics, latency per query and per stage, LLM tokens."""

    pipeline: str
    metrics: dict[str, float]
    queries: int
    latency_ms_p50: float
    latency_ms_mean: float
    stage_ms_p50: dict[str, float]
    prompt_tokens: int = 0
    completion_tokens: int = 0
    warnings: int = 0
    per_query: dict[str, dict[str, float]] = field(default_factory=dict, repr=False)

    def to_dict(self, per_query: bool = False) -> dict:
        row = {"pipeline": self.pipeline, **self.metrics, "latency_ms_p50": self.latency_ms_p50,
               "latency_ms_mean": self.latency_ms_mean, "stage_ms_p50": self.stage_ms_p50, "queries": self.queries,
               "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
               "warnings": self.warnings}
        if per_query:
            row["per_query"] = self.per_query
        return row


@dataclass
class RetrievalReport:
    """Rows per pipeline, and each later pipeline's paired test against the first one on ``ndcg@10``."""

    data: str
    split: str
    queries: int
    index: IndexInfo
    results: list[PipelineResult]
    comparisons: list = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.comparisons:
            self.comparisons = compare(self.results)

    def to_dict(self, per_query: bool = False) -> dict:
        return {"data": self.data, "split": self.split, "queries": self.queries, "index": asdict(self.index),
                "results": [r.to_dict(per_query) for r in self.results],
                "comparisons": [c.to_dict() for c in self.comparisons]}


def compare(results: list[PipelineResult], metric: str = "ndcg@10", seed: int = 0) -> list:
    """Paired sign-flip permutation tests (with bootstrap intervals) of each pipeline against the first,
    over the same queries; p-values Holm-adjusted."""
    from ragtune.evaluation.stats import holm, paired_test

    if len(results) < 2:
        return []
    base = results[0]
    queries = list(base.per_query)
    tests = [paired_test(metric, r.pipeline, base.pipeline, [r.per_query[q][metric] for q in queries],
                         [base.per_query[q][metric] for q in queries], seed) for r in results[1:]]
    holm(tests, 0.05)
    return tests


def _doc_sha(doc: CorpusDoc) -> str:
    return hashlib.sha256(f"{doc.title}\0{doc.text}".encode()).hexdigest()


def ir_metrics(qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]]
               ) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """``METRICS`` (ranx) averaged over the judged queries, and per query. ``run`` maps each judged query to
    {document: score}, higher first; a query missing from it scores 0."""
    from ranx import Qrels, Run, evaluate

    ranx_run = Run({q: run.get(q, {}) for q in qrels})
    means = evaluate(Qrels(qrels), ranx_run, METRICS)
    per_query = {q: {m: round(float(ranx_run.scores[m][q]), 4) for m in METRICS} for q in qrels}
    return {m: round(float(v), 4) for m, v in means.items()}, per_query


class RetrievalEvaluation:
    """Evaluates pipelines on one BEIR folder and split. ``index()`` first (cached), then ``run()`` per
    pipeline. ``depth``: documents ranked per query (Recall@100 needs 100); ``span_ks``: cut-offs, in chunks,
    of the span metrics. The scratch index is named by ``index_key`` of the ``chunker`` settings and the
    ``embedder_identity``, and opened in ``root`` by ``open_index``."""

    def __init__(self, data: str | Path, chunker: dict, embedder_identity: str,
                 open_index: Callable[[Path], ScratchIndex], split: str = "test", limit: int | None = None,
                 depth: int = 100, span_ks: tuple[int, ...] = (4, 10), cache_dir: str | Path | None = None) -> None:
        from ragtune.generation.profiles import cache_dir as default_cache

        if limit is not None and limit < 1:
            raise InputError(f"limit must be at least 1, got {limit}")
        self.dataset: BeirDataset = load_beir(data, split)
        if limit:
            keep = list(self.dataset.queries)[:limit]
            self.dataset.queries = {q: self.dataset.queries[q] for q in keep}
            self.dataset.qrels = {q: self.dataset.qrels[q] for q in keep}
        self.depth = depth
        self.span_ks = span_ks
        self.key = self.index_key(file_sha256(self.dataset.corpus_file), chunker, embedder_identity)
        self.root = Path(cache_dir or default_cache() / "beir") / self.key[:16]
        self._open_index = open_index
        self._scratch: ScratchIndex | None = None

    @staticmethod
    def index_key(corpus_sha256: str, chunker: dict, embedder_identity: str) -> str:
        """What the index depends on: the corpus bytes, the chunker settings and the embedding model (a registry
        version by its identity, so retraining or promoting re-indexes)."""
        parts = {"corpus": corpus_sha256, "chunker": chunker, "embedder": embedder_identity, "format": INDEX_FORMAT}
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    @property
    def scratch(self) -> ScratchIndex:
        """The scratch index in ``root``, opened on first use."""
        if self._scratch is None:
            self._scratch = self._open_index(self.root)
        return self._scratch

    def index(self, on_start: Progress | None = None, on_item: Advance | None = None,
              batch: int = 64) -> IndexInfo:
        """Index the corpus records not yet in the scratch index (all of them on the first run)."""
        from ragtune.documents.models import Document, Page

        t0 = time.perf_counter()
        proj = self.scratch
        stored = proj.store.documents()
        todo = [d for d in self.dataset.corpus.values()
                if d.id not in stored or stored[d.id].sha256 != _doc_sha(d)]
        if on_start:
            on_start(len(todo))
        for i in range(0, len(todo), batch):
            docs, chunk_lists = todo[i: i + batch], []
            for d in docs:
                body = d.text if d.text.strip() else d.title
                doc = Document(source=d.id, title=d.title or d.id, sha256=_doc_sha(d), pages=[Page(1, body)])
                chunks = proj.chunker.chunk(doc)
                if d.title.strip() and d.text.strip():
                    for c in chunks:
                        c.text = f"{d.title}\n\n{c.text}"
                chunk_lists.append((doc, chunks))
            texts = [c.text for _, chunks in chunk_lists for c in chunks if c.indexed]
            vectors = proj.embedder.embed_cached(texts, proj.store)
            pos = 0
            for doc, chunks in chunk_lists:
                n = sum(c.indexed for c in chunks)
                proj.store.replace_document(doc, chunks, vectors[pos: pos + n])
                pos += n
                if on_item:
                    on_item(doc.source)
        proj.bm25.sync(proj.store)
        proj.vectors.sync()
        return IndexInfo(str(self.root), len(self.dataset.corpus), proj.store.count_chunks(), len(todo),
                         round(time.perf_counter() - t0, 3))

    def run(self, pipeline: str, on_start: Progress | None = None, on_item: Advance | None = None) -> PipelineResult:
        """Retrieve for every query with ``pipeline`` and score the ranking of corpus records."""
        proj = self.scratch
        pipe = proj.pipeline(pipeline)
        ds = self.dataset
        chunks_per_doc = max(1.0, proj.store.count_chunks() / max(1, len(ds.corpus)))
        top_k = min(math.ceil(self.depth * chunks_per_doc), 10 * self.depth)
        if on_start:
            on_start(len(ds.queries))
        run: dict[str, dict[str, float]] = {}
        latencies: list[float] = []
        stages: dict[str, list[float]] = {}
        spans: dict[int, list[tuple[float, float]]] = {k: [] for k in self.span_ks}
        prompt = completion = warnings = 0
        for qid, question in ds.queries.items():
            t0 = time.perf_counter()
            ctx = pipe.run(question, top_k)
            latencies.append(time.perf_counter() - t0)
            for t in ctx.trace:
                stages.setdefault(t.stage, []).append(t.seconds)
            prompt += ctx.usage["prompt_tokens"]
            completion += ctx.usage["completion_tokens"]
            warnings += len(ctx.warnings)
            ranked = list(dict.fromkeys(h.chunk.doc_source for h in ctx.hits))[: self.depth]
            run[qid] = {d: float(len(ranked) - i) for i, d in enumerate(ranked)}
            if qid in ds.spans:
                gold = [(s.document, s.start, s.end) for s in ds.spans[qid]]
                for k in self.span_ks:
                    spans[k].append(span_precision_recall([self._char_span(h.chunk) for h in ctx.hits[:k]], gold))
            if on_item:
                on_item(qid)
        metrics, per_query = ir_metrics(ds.qrels, run)
        for k, values in spans.items():
            if values:
                metrics[f"span_precision@{k}"] = round(statistics.fmean(p for p, _ in values), 4)
                metrics[f"span_recall@{k}"] = round(statistics.fmean(r for _, r in values), 4)
        return PipelineResult(
            pipeline, metrics, len(ds.queries), round(1000 * statistics.median(latencies), 2),
            round(1000 * statistics.fmean(latencies), 2),
            {s: round(1000 * statistics.median(v), 2) for s, v in stages.items()}, prompt, completion, warnings,
            per_query)

    def _char_span(self, chunk) -> tuple[str, int, int]:
        """Where a retrieved chunk's text (its record title aside) sits in the source document."""
        doc = self.dataset.corpus[chunk.doc_source]
        return doc.document, doc.start + chunk.start, doc.start + chunk.end

    def close(self) -> None:
        if self._scratch is not None:
            self._scratch.close()
