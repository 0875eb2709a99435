"""``Project``: the Python API the CLI mirrors — init, ingest, retrieve, ask."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from functools import cached_property
from pathlib import Path

from ragtune.config import CONFIG_FILE, ProjectConfig
from ragtune.errors import ConfigError, InputError

WORKDIR = ".ragtune"


class Project:
    """A folder with ``ragtune.yaml``; everything ragtune produces lives under its ``.ragtune/``."""

    def __init__(self, root: str | Path = ".", registry_dir: str | Path | None = None) -> None:
        self.root = Path(root).resolve()
        self.config_path = self.root / CONFIG_FILE
        self.config = ProjectConfig.load(self.config_path)
        self.workdir = self.root / WORKDIR
        self.registry_dir = Path(registry_dir) if registry_dir is not None else self.workdir

    @classmethod
    def init(cls, root: str | Path, name: str | None = None, force: bool = False) -> Project:
        """Create ``root/ragtune.yaml`` with the defaults (refuses to overwrite unless ``force``)."""
        root = Path(root)
        path = root / CONFIG_FILE
        if path.exists() and not force:
            raise ConfigError(f"{path} already exists (use --force to overwrite)")
        root.mkdir(parents=True, exist_ok=True)
        config = ProjectConfig(name=name or root.resolve().name)
        path.write_text(f"# ragtune project configuration; see docs/configuration.md\n{config.dump()}",
                        encoding="utf-8")
        (root / WORKDIR).mkdir(exist_ok=True)
        return cls(root)

    # components, built on first use so that commands import only what they need
    @cached_property
    def store(self):
        from ragtune.index.sqlite_store import SQLiteStore

        return SQLiteStore(self.workdir / "index.db", self.embedder.identity)

    @cached_property
    def registry(self):
        """The model registry (``<registry_dir>/models/``, by default this project's ``.ragtune/models/``), which
        resolves version ids and ``champion`` wherever a model is named (embedder, rerank, ``ask --model``)."""
        from ragtune.training.registry import ModelRegistry

        return ModelRegistry(self.registry_dir)

    @cached_property
    def embedder(self):
        from ragtune.index.embedder import Embedder

        return Embedder(self.config.embedder, self.registry)

    @cached_property
    def bm25(self):
        from ragtune.index.bm25 import BM25Index

        return BM25Index(self.workdir / "bm25")

    @cached_property
    def chunker(self):
        from ragtune.documents.chunkers import chunkers
        from ragtune.documents.tokenizer import token_counter_for

        cfg = self.config.chunker
        return chunkers.get(cfg.name)(cfg, token_counter_for(self.embedder.path))

    @cached_property
    def llm(self):
        from ragtune.generation.llms import load_llm

        return load_llm(self.config.llm)

    def llm_for(self, model: str | None = None):
        """The LLM for ``model``: None or "base" is the configured one; a fine-tuned version id from the model
        registry (``v3``) or ``champion`` is that version served on the same engine."""
        if model in (None, "base"):
            return self.llm
        from ragtune.generation.llms import load_llm
        from ragtune.training.registry import ModelRegistry

        registry = ModelRegistry(self.workdir)
        version = registry.get(model)
        served = self.__dict__.setdefault("_tuned_llms", {})
        if version.id not in served:
            served[version.id] = load_llm(registry.llm_config(version.id, self.config.llm))
        return served[version.id]

    @cached_property
    def feedback(self):
        """The feedback store (``feedback.url``, by default ``.ragtune/feedback.db``): answers shown and the
        feedback on them."""
        import os

        from ragtune.feedback.store import FeedbackStore

        url = self.config.feedback.url
        if url is None:
            return FeedbackStore(self.workdir / "feedback.db")
        url = os.path.expandvars(url)
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            url = f"sqlite:///{self.root / url.removeprefix('sqlite:///')}"  # relative to the project folder
        return FeedbackStore(url)

    def ingest(self, paths: list[str | Path], rebuild: bool = False,
               on_start: Callable[[int], None] | None = None,
               on_file: Callable[[str, int], None] | None = None, graph: bool | None = None):
        """Index files and folders; returns an IngestReport (skipped files are listed, not raised). ``graph``
        (default ``index.graph.build_on_ingest``) also rebuilds the knowledge graph; its cost is in
        ``report.enrichment["knowledge_graph"]``."""
        from ragtune.documents.ingest import Ingestor

        resolved = [Path(p) if Path(p).is_absolute() else Path.cwd() / p for p in paths]
        if not resolved:
            raise InputError("nothing to ingest: give at least one file or folder")
        if rebuild:
            self.close()
            for name in ("index.db", "index.db-wal", "index.db-shm", "bm25", "graph/graph.json"):
                target = self.workdir / name
                shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
            self.__dict__.pop("store", None)
            self.__dict__.pop("graph", None)
        enrichers = {}
        if self.config.index.hypothetical_questions.per_chunk:
            from ragtune.index.hypothetical_questions import HypotheticalQuestions

            enrichers["hypothetical_questions"] = HypotheticalQuestions(
                self.config.index.hypothetical_questions, self.llm, self.chunker.counter.count)
        report = Ingestor(self.root, self.config.documents, self.chunker, self.embedder, self.store,
                          enrichers).run(resolved, on_file=on_file, on_start=on_start)
        self.bm25.sync(self.store)
        if self.config.index.graph.build_on_ingest if graph is None else graph:
            report.enrichment["knowledge_graph"] = self.build_graph().enrichment()
        return report

    def build_graph(self, extractor: str | None = None, on_start: Callable[[int], None] | None = None,
                    on_chunk: Callable[[str], None] | None = None):
        """Extract entities and relations from every chunk (``rules`` or ``llm``, default
        ``index.graph.extractor``), merge duplicates, save the graph; returns a GraphBuildReport."""
        from ragtune.index.graph.builder import GraphBuilder

        graph, report = GraphBuilder(self, self.config.index.graph, extractor).build(on_start, on_chunk)
        self.__dict__["graph"] = graph
        return report

    @cached_property
    def graph(self):
        """The knowledge graph saved by ``build_graph`` (``.ragtune/graph/graph.json``)."""
        from ragtune.index.graph.knowledge_graph import KnowledgeGraph

        return KnowledgeGraph.load(self.workdir / "graph" / "graph.json")

    def ask_global(self, question: str, strategy: str | None = None):
        """A corpus-wide question answered from graph communities (summaries, map, reduce: by ``strategy``,
        default ``answer.strategy``); a GlobalAnswer."""
        from ragtune.generation.global_search import GlobalSearch

        if not question.strip():
            raise InputError("the question is empty")
        return GlobalSearch(self, self.answer_strategy(strategy)).answer(question)

    def compare(self, aspect: str, docs: list[str] | None = None, top_k: int | None = None,
                pipeline: str | None = None, on_start: Callable[[int], None] | None = None,
                on_document: Callable[[str], None] | None = None, strategy: str | None = None):
        """Compare documents on ``aspect`` (all, or those matching the ``docs`` globs): per document a cited
        answer by ``strategy`` (default ``compare.strategy``, else ``answer.strategy``) (map), then a comparison
        table and synthesis (reduce). Returns a Comparison."""
        from ragtune.generation.compare import DocumentComparer

        chosen = self.answer_strategy(strategy or self.config.compare.strategy)
        return DocumentComparer(self, chosen).compare(aspect, docs, top_k, pipeline, on_start, on_document)

    def pipeline(self, spec: str | None = None):
        """A retrieval pipeline: a name from ``pipelines:``, a spec like ``hyde+hybrid+rerank``, or the
        configured default."""
        from ragtune.retrieval.pipeline import Pipeline, parse_spec

        spec = spec or self.config.retrieval.pipeline
        cache = self.__dict__.setdefault("_pipelines", {})
        if spec not in cache:
            cache[spec] = Pipeline(parse_spec(spec, self.config.pipelines, self.config.retrieval.mode), self)
        return cache[spec]

    def retrieve(self, question: str, top_k: int | None = None, filters: dict | None = None,
                 pipeline: str | None = None):
        """Run a pipeline's retrieval stages; the QueryContext has ``hits`` and a per-stage ``trace``."""
        return self.pipeline(pipeline).run(question, top_k, filters)

    def answer_strategy(self, name: str | None = None, model: str | None = None):
        """The answer strategy ``name`` (default ``answer.strategy``: extract, extract+generate, generate) with
        the LLM of ``model`` (see ``llm_for``) and the configured sentence scorer."""
        from ragtune.generation.strategies import strategies
        from ragtune.generation.strategies.selection import SentenceSelector
        from ragtune.registry import UnknownComponentError

        cfg = self.config.answer
        try:
            cls = strategies.get(name or cfg.strategy)
        except UnknownComponentError as e:
            raise ConfigError(f"answer strategy: {e}") from None
        scorer = None if cfg.scorer == "embedder" else self.cross_encoder(cfg.scorer)
        return cls(cfg, self.llm_for(model), SentenceSelector(cfg, self.embedder, scorer))

    def cross_encoder(self, ref: str):
        """A loaded cross-encoder (loaded once per project): a registry version id or ``champion`` (``ragtune tune
        reranker``), a local folder, or an installed model package / hub id."""
        from ragtune.models import model_dir
        from ragtune.training.registry import is_version_ref
        from ragtune.training.reranker import load_cross_encoder

        loaded = self.__dict__.setdefault("_cross_encoders", {})
        if ref not in loaded:
            if not is_version_ref(ref):
                path = model_dir(ref)
            elif ref == "champion" and self.registry.champion("reranker") is None:
                raise ConfigError("no cross-encoder configured: name a local path or hub id, or train one with "
                                  "`ragtune tune reranker` and promote it (`llm_rerank` needs no model)")
            else:
                path = str(self.registry.folder(self.registry.resolve(ref, "reranker")))
            loaded[ref] = load_cross_encoder(path)
        return loaded[ref]

    def ask(self, question: str, top_k: int | None = None, filters: dict | None = None,
            on_token: Callable[[str], None] | None = None, pipeline: str | None = None, record: bool = False,
            model: str | None = None, strategy: str | None = None):
        """Retrieve with a pipeline, answer with a strategy (default ``answer.strategy``), cite and check the
        chunks it uses. ``record`` stores the answer in the feedback store and sets its ``answer_id``;
        ``model`` picks a fine-tuned version (see ``llm_for``)."""
        from ragtune.generation.answer import CitedAnswerer

        if not question.strip():
            raise InputError("the question is empty")
        if self.store.count_chunks() == 0:
            raise InputError(f"the index of {self.root} is empty: run `ragtune ingest PATH` first")
        answerer = CitedAnswerer(self, self.pipeline(pipeline), self.answer_strategy(strategy, model))
        answer = answerer.answer(question, top_k, filters, on_token)
        if record:
            from ragtune.training.registry import ModelRegistry

            version = None if model in (None, "base") else ModelRegistry(self.workdir).get(model).id
            answer.answer_id = self.feedback.record_answer(
                question, answer.answer, answer.chunks, model=version or answer.model or self.config.llm.model,
                pipeline=answer.pipeline, details={"usage": answer.usage, "cost_usd": answer.cost_usd,
                                                   "latency_s": answer.latency_s, "answered": answer.answered})
        return answer

    def evaluate_retrieval(self, data: str | Path, pipelines: list[str], **options):
        """``ragtune eval retrieval``: pipelines scored on a BEIR folder with this project's chunker, embedder
        and pipelines; the corpus index is cached under ``.ragtune/eval/beir/``. Returns a RetrievalReport."""
        from ragtune.evaluation.retrieval import evaluate_retrieval

        return evaluate_retrieval(data, pipelines, self.config, cache_dir=self.workdir / "eval" / "beir",
                                  registry_dir=self.registry_dir, **options)

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
        if "feedback" in self.__dict__:
            self.feedback.close()
