"""Components built from their collaborators alone: a store filled directly in the test and the shipped embedder;
no Project, no ragtune.yaml, no ingest."""

from __future__ import annotations

import dataclasses

import pytest

from ragtune.config import ANNConfig, EmbedderConfig, LLMConfig, RetrievalConfig
from ragtune.documents.models import Chunk, Document, Page
from ragtune.errors import ConfigError
from ragtune.generation.answer import CitedAnswerer
from ragtune.generation.config import AnswerConfig
from ragtune.generation.strategies import strategies
from ragtune.generation.strategies.selection import SentenceSelector
from ragtune.index.bm25 import BM25Index
from ragtune.index.embedder import Embedder
from ragtune.index.postgres_store import PostgresStore
from ragtune.index.sqlite_store import SQLiteStore
from ragtune.index.vector_index import VectorIndex
from ragtune.llm import LLM
from ragtune.retrieval.pipeline import Pipeline, parse_spec
from ragtune.retrieval.resources import RetrievalResources

PASSAGES = {
    "warranty.txt": ["Acme Widgets are covered by a limited warranty of twenty-four (24) months from delivery.",
                     "The warranty does not cover damage caused by immersion in water."],
    "lease.txt": ["The tenant pays a monthly rent of two thousand euros on the first day of each month.",
                  "Either party may end the lease with three months' written notice."],
}


@pytest.fixture(scope="module")
def resources(request, tmp_path_factory, backend):
    """A store (each backend) and BM25 index filled with hand-made chunks, embedded by the shipped embedder."""
    folder = tmp_path_factory.mktemp("components")
    embedder = Embedder(EmbedderConfig())
    if backend == "postgres":
        store = PostgresStore(request.getfixturevalue("new_database")(), embedder.identity)
    else:
        store = SQLiteStore(folder / "index.db", embedder.identity)
    for source, texts in PASSAGES.items():
        doc = Document(source=source, title=source.removesuffix(".txt"), sha256=source,
                       pages=[Page(1, " ".join(texts))])
        chunks, start = [], 0
        for i, text in enumerate(texts):
            chunks.append(Chunk(f"{source}#{i}", source, text, start, start + len(text), 1, len(text.split())))
            start += len(text) + 1
        store.replace_document(doc, chunks, embedder.embed([c.text for c in chunks]))
    bm25 = BM25Index(folder / "bm25").sync(store)
    vectors = VectorIndex(store, folder / "ann", ANNConfig())
    yield RetrievalResources(store=store, bm25=bm25, vectors=vectors, embedder=embedder,
                             settings=RetrievalConfig(top_k=2), count_tokens=lambda text: len(text.split()))
    store.close()


@pytest.mark.parametrize("spec", ["hybrid+rerank", "hybrid+mmr"])
def test_pipeline_from_resources(resources, spec):
    pipeline = Pipeline(parse_spec(spec, {}, "hybrid"), resources)
    if spec.endswith("rerank"):  # no cross-encoder was given: a clear error, not a call into a project
        with pytest.raises(ConfigError, match="needs a cross-encoder"):
            pipeline.run("How long is the warranty?")
        return
    ctx = pipeline.run("How long is the warranty?")
    assert [t.stage for t in ctx.trace] == ["hybrid", "mmr"]
    assert ctx.hits[0].chunk.id == "warranty.txt#0" and len(ctx.hits) == 2


def test_pipeline_with_a_cross_encoder_from_resources(resources):
    class Overlap:
        """A stand-in cross-encoder: scores a pair by the words question and passage share."""

        def predict(self, pairs, **_options):
            return [len(set(q.lower().split()) & set(p.lower().split())) for q, p in pairs]

    with_reranker = dataclasses.replace(resources, cross_encoder=lambda ref: Overlap())
    ctx = Pipeline(parse_spec("hybrid+rerank", {}, "hybrid"), with_reranker).run("What is the monthly rent?")
    assert [t.stage for t in ctx.trace] == ["hybrid", "rerank"] and ctx.hits[0].chunk.id == "lease.txt#0"


class Unused(LLM):
    """The LLM of a strategy that makes no LLM call (``extract``)."""

    def _generate(self, messages, params, on_token):
        raise AssertionError("extract calls no LLM")


def test_cited_answerer_from_its_collaborators(resources):
    config = AnswerConfig()
    selector = SentenceSelector(config, resources.embedder, None)
    strategy = strategies.get("extract")(config, Unused(LLMConfig(model="none")), selector)
    pipeline = Pipeline(parse_spec("hybrid", {}, "hybrid"), resources)
    answerer = CitedAnswerer(pipeline, strategy, resources.embedder, resources.store, 0.3, {})
    answer = answerer.answer("How long is the warranty?")
    assert answer.answered and "twenty-four (24) months" in answer.answer
    assert answer.citations and answer.citations[0].source == "warranty.txt"
    assert answer.pipeline == "hybrid" and answer.strategy == "extract" and answer.cost_usd == 0.0
