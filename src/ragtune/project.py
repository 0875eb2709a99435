"""``Project``: the Python API the CLI mirrors (init, ingest, retrieve, ask) and the composition root: the one
place that builds ragtune's components from the configuration and hands each the collaborators it uses."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from contextlib import suppress
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import Field, ValidationError

from ragtune.config import (
    CONFIG_FILE,
    DocumentsConfig,
    EmbedderConfig,
    FeedbackConfig,
    HypotheticalQuestionsConfig,
    LLMConfig,
    Price,
    RetrievalConfig,
    ScaleConfig,
    ServerConfig,
    StoreConfig,
    Strict,
    format_validation_error,
)
from ragtune.datasets.config import DatasetsConfig
from ragtune.documents.chunkers import AnyChunkerConfig, RecursiveConfig
from ragtune.errors import ConfigError, InputError
from ragtune.evaluation.config import BenchConfig
from ragtune.generation.config import AnswerConfig, CompareConfig
from ragtune.index.graph.config import GraphConfig
from ragtune.training.config import TrainingConfig

if TYPE_CHECKING:
    from ragtune.documents.chunkers.base import Chunker
    from ragtune.evaluation.system import BenchSystem
    from ragtune.feedback.store import FeedbackStore
    from ragtune.generation.verdicts import VerdictReader
    from ragtune.index.bm25 import BM25Index
    from ragtune.index.embedder import Embedder
    from ragtune.index.graph.knowledge_graph import KnowledgeGraph
    from ragtune.index.store import Store
    from ragtune.index.vector_index import VectorIndex
    from ragtune.llm import LLM
    from ragtune.model_registry import ModelRegistry
    from ragtune.packs import AnswerPack
    from ragtune.retrieval.pipeline import Pipeline
    from ragtune.retrieval.resources import RetrievalResources
    from ragtune.training.resources import TrainingResources

WORKDIR = ".ragtune"


class IndexConfig(Strict):
    """Extra indexing work at ingest time."""

    hypothetical_questions: HypotheticalQuestionsConfig = Field(default_factory=HypotheticalQuestionsConfig)
    graph: GraphConfig = Field(default_factory=GraphConfig)
    context: bool = Field(False, description="BM25 and the embedder index each chunk's context line (document title "
                          "> section heading > table title) with its text (off: on financebench_dev it did not raise "
                          "the evidence-page hit rate, docs/benchmarking.md); changing it needs `ingest --rebuild`.")


def _default_pipelines() -> dict[str, list[str | dict[str, Any]]]:
    return {
        "naive": ["hybrid"],
        "advanced": ["document_filter", "multi_query", "hybrid", "dedupe", {"name": "mmr", "lambda_": 0.8}, "reorder",
                     "document_head"],
        "decompose": ["decompose", "hybrid", "dedupe"],
        "routed": ["router"],
    }


def _default_prices() -> dict[str, Price]:
    return {
        "fast": Price(hourly_usd=0.05),
        "quality": Price(hourly_usd=0.05),
        "gpt-4o-mini": Price(input_per_mtok=0.15, output_per_mtok=0.60),
    }


class ProjectConfig(Strict):
    """Everything in ``ragtune.yaml``."""

    name: str = "ragtune-project"
    documents: DocumentsConfig = Field(default_factory=DocumentsConfig)
    chunker: AnyChunkerConfig = Field(default_factory=RecursiveConfig)
    embedder: EmbedderConfig = Field(default_factory=EmbedderConfig)
    index: IndexConfig = Field(default_factory=IndexConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)
    scale: ScaleConfig = Field(default_factory=ScaleConfig)
    retrieval: RetrievalConfig = Field(default_factory=RetrievalConfig)
    pipelines: dict[str, list[str | dict[str, Any]]] = Field(default_factory=_default_pipelines)
    llm: LLMConfig = Field(default_factory=LLMConfig)
    answer: AnswerConfig = Field(default_factory=AnswerConfig)
    prices: dict[str, Price] = Field(default_factory=_default_prices)
    datasets: DatasetsConfig = Field(default_factory=DatasetsConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    bench: BenchConfig = Field(default_factory=BenchConfig)
    compare: CompareConfig = Field(default_factory=CompareConfig)
    feedback: FeedbackConfig = Field(default_factory=FeedbackConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)

    @classmethod
    def load(cls, path: Path) -> ProjectConfig:
        if not path.is_file():
            raise ConfigError(f"{path}: no such config file (run `ragtune init` first)")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as e:
            raise ConfigError(f"{path}: not valid YAML: {e}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: expected a mapping of keys at the top level")
        try:
            return cls.model_validate(data)
        except ValidationError as e:
            raise ConfigError(format_validation_error(e, str(path))) from None

    def dump(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)


def with_domain(config: ProjectConfig, domain: str) -> ProjectConfig:
    """``config`` with the answer pack ``domain`` and, where the pack names them, the retrieval pipeline and the
    answer strategy it was measured with and the graph extractor of its rules."""
    from ragtune.packs import make_pack

    pack = make_pack(domain)
    answer = {"pack": domain} | ({"strategy": pack.strategy} if pack.strategy else {})
    config = config.model_copy(update={"answer": config.answer.model_copy(update=answer)})
    if pack.pipeline:
        config.retrieval = config.retrieval.model_copy(update={"pipeline": pack.pipeline})
    if pack.graph_extractor:
        graph = config.index.graph.model_copy(update={"extractor": pack.graph_extractor})
        config.index = config.index.model_copy(update={"graph": graph})
    return config


class Project:
    """A folder with ``ragtune.yaml``; everything ragtune produces lives under its ``.ragtune/``.

    Collaborators are built on first use and kept: the ``cached_property`` ones, and the models and pipelines
    cached by name. Those in ``INDEX_BUILT`` and the pipelines are made from the index; a rebuild of the index
    drops them, so the next use builds them on the new index."""

    INDEX_BUILT = ("store", "bm25", "vectors", "graph", "retrieval_resources")

    def __init__(self, root: str | Path = ".", registry_dir: str | Path | None = None,
                 config: ProjectConfig | None = None) -> None:
        """Open the project in ``root``: its ``ragtune.yaml``, or ``config`` when given (in memory; nothing is
        written)."""
        self.root = Path(root).resolve()
        self.config_path = self.root / CONFIG_FILE
        self.config = config if config is not None else ProjectConfig.load(self.config_path)
        self.workdir = self.root / WORKDIR
        self.registry_dir = Path(registry_dir) if registry_dir is not None else self.workdir
        self._pipelines: dict[str, Pipeline] = {}  # by spec
        self._tuned_llms: dict[str, LLM] = {}  # by registry version id
        self._cross_encoders: dict[str, Any] = {}  # by model path (sentence-transformers CrossEncoder)
        self._verdicts: dict[Path, VerdictReader] = {}  # by model folder (on the current index)

    @classmethod
    def init(cls, root: str | Path, name: str | None = None, force: bool = False,
             domain: str | None = None) -> Project:
        """Create ``root/ragtune.yaml`` with the defaults (refuses to overwrite unless ``force``); ``domain``: the
        answer pack (``answer.pack``) and what it names (``with_domain``: pipeline, strategy, graph extractor)."""
        root = Path(root)
        path = root / CONFIG_FILE
        if path.exists() and not force:
            raise ConfigError(f"{path} already exists (use --force to overwrite)")
        root.mkdir(parents=True, exist_ok=True)
        config = ProjectConfig(name=name or root.resolve().name)
        if domain:
            config = with_domain(config, domain)
        path.write_text(f"# ragtune project configuration; see docs/configuration.md\n{config.dump()}",
                        encoding="utf-8")
        (root / WORKDIR).mkdir(exist_ok=True)
        return cls(root)

    # components, built on first use so that commands import only what they need
    @cached_property
    def store(self) -> Store:
        """The index of chunks and vectors, by ``store.backend``: ``.ragtune/index.db`` (sqlite) or the PostgreSQL
        database at ``store.url`` (postgres). BM25 is built from it either way, in ``.ragtune/bm25``."""
        from ragtune.index.store import indexed_text

        c = self.config.store
        if c.backend == "postgres":
            from ragtune.index.postgres_store import PostgresStore

            return PostgresStore(self._store_url(), self.embedder.identity, c.hnsw_m, c.hnsw_ef_construction,
                                 c.ef_search, indexed_text(self.config.index.context))
        from ragtune.index.sqlite_store import SQLiteStore

        return SQLiteStore(self.workdir / "index.db", self.embedder.identity, indexed_text(self.config.index.context))

    def _store_url(self) -> str:
        import os

        return os.path.expandvars(self.config.store.url or "")

    @cached_property
    def registry(self) -> ModelRegistry:
        """The model registry (``<registry_dir>/models/``, by default this project's ``.ragtune/models/``), which
        resolves version ids and ``champion`` wherever a model is named (embedder, rerank, ``ask --model``)."""
        from ragtune.model_registry import ModelRegistry

        return ModelRegistry(self.registry_dir)

    @cached_property
    def embedder(self) -> Embedder:
        from ragtune.index.embedder import Embedder

        return Embedder(self.config.embedder, self.registry)

    @cached_property
    def bm25(self) -> BM25Index:
        from ragtune.index.bm25 import BM25Index

        return BM25Index(self.workdir / "bm25", self.config.index.context)

    @cached_property
    def vectors(self) -> VectorIndex:
        """Dense search over the store: exact below ``store.ann.threshold`` chunks, else the HNSW index in
        ``.ragtune/ann/`` (rebuilt from the store when stale)."""
        from ragtune.index.vector_index import VectorIndex

        return VectorIndex(self.store, self.workdir / "ann", self.config.store.ann)

    @cached_property
    def chunker(self) -> Chunker:
        from ragtune.documents.chunkers import chunkers
        from ragtune.documents.tokenizer import token_counter_for

        cfg = self.config.chunker
        return chunkers.get(cfg.name)(cfg, token_counter_for(self.embedder.path))

    @cached_property
    def llm(self) -> LLM:
        from ragtune.generation.llms import load_llm

        return load_llm(self.config.llm)

    def llm_for(self, model: str | None = None) -> LLM:
        """The LLM for ``model``: None or "base" is the configured one; a fine-tuned version id from the model
        registry (``v3``) or ``champion`` is that version served on the same engine."""
        if model in (None, "base"):
            return self.llm
        from ragtune.generation.llms import load_llm

        version = self.registry.get(model)
        if version.id not in self._tuned_llms:
            self._tuned_llms[version.id] = load_llm(self.registry.llm_config(version.id, self.config.llm))
        return self._tuned_llms[version.id]

    @cached_property
    def feedback(self) -> FeedbackStore:
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
               on_file: Callable[[str, int], None] | None = None, graph: bool | None = None,
               engine: str | None = None):
        """Index files and folders; returns an IngestReport (skipped files are listed, not raised). ``graph``
        (default ``index.graph.build_on_ingest``) also rebuilds the knowledge graph; its cost is in
        ``report.enrichment["knowledge_graph"]``. ``engine`` (default ``scale.engine``): ``local`` or ``ray``."""
        from ragtune.config import with_overrides
        from ragtune.index.ingest import Ingestor

        resolved = [Path(p) if Path(p).is_absolute() else Path.cwd() / p for p in paths]
        if not resolved:
            raise InputError("nothing to ingest: give at least one file or folder")
        if rebuild:
            self.close()
            if self.config.store.backend == "postgres":
                from ragtune.index.postgres_store import drop_index

                drop_index(self._store_url())
            for name in ("index.db", "index.db-wal", "index.db-shm", "bm25", "ann", "graph/graph.json"):
                target = self.workdir / name
                shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
            self._forget_index()
        enrichers = {}
        if self.config.index.hypothetical_questions.per_chunk:
            from ragtune.index.hypothetical_questions import HypotheticalQuestions

            enrichers["hypothetical_questions"] = HypotheticalQuestions(
                self.config.index.hypothetical_questions, self.llm, self.chunker.counter.count)
        scale = with_overrides(self.config.scale, {"engine": engine})
        if scale.engine == "ray":
            from ragtune.index.ray_ingest import RayIngestor

            ingestor = RayIngestor(self.root, self.config.documents, self.chunker, self.embedder, self.store, scale,
                                   enrichers, self.config.index.context)
        else:
            ingestor = Ingestor(self.root, self.config.documents, self.chunker, self.embedder, self.store, enrichers,
                                self.config.index.context)
        report = ingestor.run(resolved, on_file=on_file, on_start=on_start)
        self.bm25.sync(self.store)
        self.vectors.sync()
        if self.config.index.graph.build_on_ingest if graph is None else graph:
            report.enrichment["knowledge_graph"] = self.build_graph().enrichment()
        return report

    def build_graph(self, extractor: str | None = None, on_start: Callable[[int], None] | None = None,
                    on_chunk: Callable[[str], None] | None = None):
        """Extract entities and relations from every chunk (``rules``, ``contracts`` or ``llm``, default
        ``index.graph.extractor``), merge duplicates, save the graph; returns a GraphBuildReport."""
        from ragtune.index.graph.builder import GraphBuilder, make_extractor

        config = self.config.index.graph
        builder = GraphBuilder(self.store, self.embedder, make_extractor(config, extractor, lambda: self.llm), config,
                               self.workdir / "graph")
        self.graph, report = builder.build(on_start, on_chunk)
        return report

    @cached_property
    def graph(self) -> KnowledgeGraph:
        """The knowledge graph saved by ``build_graph`` (``.ragtune/graph/graph.json``)."""
        from ragtune.index.graph.knowledge_graph import KnowledgeGraph

        return KnowledgeGraph.load(self.workdir / "graph" / "graph.json")

    def load_graph(self):
        """The knowledge graph and warnings about it (the graph provider of retrieval and global search): built
        now when missing and the configured extractor uses no LLM (``rules``, ``contracts``); flagged when the
        index changed since it was built."""
        from ragtune.index.graph.builder import extractor_class, load_or_build

        free = not extractor_class(self.config.index.graph).uses_llm
        return load_or_build(lambda: self.graph, self.store, self.build_graph if free else None)

    def ask_global(self, question: str, strategy: str | None = None):
        """A corpus-wide question answered from graph communities (summaries, map, reduce: by ``strategy``,
        default ``answer.strategy``); a GlobalAnswer."""
        from ragtune.generation.global_search import GlobalSearch

        if not question.strip():
            raise InputError("the question is empty")
        return GlobalSearch(self.load_graph, self.store, self.embedder, self.answer_strategy(strategy),
                            self.config.index.graph, self.config.prices, self.config.llm.seed,
                            self.workdir / "graph" / "communities.json").answer(question)

    def compare(self, aspect: str, docs: list[str] | None = None, top_k: int | None = None,
                pipeline: str | None = None, on_start: Callable[[int], None] | None = None,
                on_document: Callable[[str], None] | None = None, strategy: str | None = None):
        """Compare documents on ``aspect`` (all, or those matching the ``docs`` globs): per document a cited
        answer by ``strategy`` (default ``compare.strategy``, else ``answer.strategy``) (map), then a comparison
        table and synthesis (reduce). Returns a Comparison."""
        from ragtune.generation.compare import DocumentComparer
        from ragtune.index.graph.builder import extractor_class, make_extractor

        if aspect.strip() and self.store.count_chunks() == 0:
            raise InputError(f"the index of {self.root} is empty: run `ragtune ingest PATH` first")
        chosen = self.answer_strategy(strategy or self.config.compare.strategy)
        graph = self.config.index.graph
        extractor = make_extractor(graph, "rules" if extractor_class(graph).uses_llm else None)  # no LLM call
        comparer = DocumentComparer(self.pipeline, self.store, self.embedder, chosen, extractor, self.config.compare,
                                    self.config.retrieval.min_relevance, self.config.prices, self.config.llm.seed)
        return comparer.compare(aspect, docs, top_k, pipeline, on_start, on_document)

    def pipeline(self, spec: str | None = None) -> Pipeline:
        """A retrieval pipeline: a name from ``pipelines:``, a spec like ``hyde+hybrid+rerank``, or the
        configured default."""
        from ragtune.retrieval.pipeline import Pipeline, parse_spec

        spec = spec or self.config.retrieval.pipeline
        if spec not in self._pipelines:
            self._pipelines[spec] = Pipeline(parse_spec(spec, self.config.pipelines, self.config.retrieval.mode),
                                             self.retrieval_resources, self.pipeline)
        return self._pipelines[spec]

    @cached_property
    def retrieval_resources(self) -> RetrievalResources:
        """What the retrieval components of this project's pipelines use."""
        from ragtune.retrieval.resources import RetrievalResources

        return RetrievalResources(
            store=self.store, bm25=self.bm25, vectors=self.vectors, embedder=self.embedder,
            settings=self.config.retrieval, count_tokens=lambda text: self.chunker.counter.count(text),
            llm=lambda: self.llm, cross_encoder=self.cross_encoder, graph=self.load_graph, pack=self.answer_pack)

    @cached_property
    def answer_pack(self) -> AnswerPack:
        """The answer pack ``answer.pack`` with ``answer.pack_options`` (ragtune.packs)."""
        from ragtune.packs import make_pack

        return make_pack(self.config.answer.pack, self.config.answer.pack_options)

    def retrieve(self, question: str, top_k: int | None = None, filters: dict | None = None,
                 pipeline: str | None = None):
        """Run a pipeline's retrieval stages; the QueryContext has ``hits`` and a per-stage ``trace``."""
        return self.pipeline(pipeline).run(question, top_k, filters)

    @property
    def training_resources(self) -> TrainingResources:
        """What this project's trainers (``ragtune.training``) read and write."""
        from ragtune.training.resources import TrainingResources

        c = self.config
        return TrainingResources(
            root=self.root, workdir=self.workdir, registry=self.registry, open_store=lambda: self.store,
            open_embedder=lambda: self.embedder, llm_config=c.llm, training=c.training, datasets=c.datasets,
            judge=c.bench.judge, retrieve=self.retrieve, llm_for=self.llm_for, feedback=lambda: self.feedback,
            answer_pack=lambda: self.answer_pack)

    @property
    def bench_system(self) -> BenchSystem:
        """This project as the system ``run_bench`` measures."""
        from ragtune.evaluation.system import BenchSystem

        c = self.config
        return BenchSystem(
            root=self.root, workdir=self.workdir, open_store=lambda: self.store, open_embedder=lambda: self.embedder,
            registry=self.registry, bench=c.bench, datasets=c.datasets, llm_config=c.llm, answer=c.answer,
            retrieval=c.retrieval, chunker=c.chunker, sft_system_prompt=c.training.sft.system_prompt, ask=self.ask,
            llm_for=self.llm_for, pipeline=self.pipeline, scale=c.scale,
            reopen=partial(reopened_bench_system, self.root, self.registry_dir, c))

    def answer_strategy(self, name: str | None = None, model: str | None = None, scorer: str | None = None,
                        verdicts: str | None = None):
        """The answer strategy ``name`` (default ``answer.strategy``: extract, extract+generate, generate) with
        the LLM of ``model`` (see ``llm_for``), the sentence scorer ``scorer`` and the verdict model ``verdicts``
        (defaults: ``answer.scorer``, ``answer.verdicts``; a version id or ``champion`` names a reader model of
        ``ragtune tune reader``)."""
        from ragtune.generation.strategies import strategies
        from ragtune.generation.strategies.selection import SentenceSelector
        from ragtune.registry import UnknownComponentError

        cfg = self.config.answer
        try:
            cls = strategies.get(name or cfg.strategy)
        except UnknownComponentError as e:
            raise ConfigError(f"answer strategy: {e}") from None
        scorer = scorer or cfg.scorer
        untuned = scorer == "embedder" or (scorer == "champion" and self.registry.champion("scorer") is None)
        cross_encoder = None if untuned else self.cross_encoder(scorer, "scorer")
        return cls(cfg, self.llm_for(model), SentenceSelector(cfg, self.embedder, cross_encoder),
                   verdicts=self.verdict_reader(verdicts or cfg.verdicts), pack=self.answer_pack,
                   writer=self.expression_writer(model))

    def expression_writer(self, model: str | None = None):
        """``answer.expressions``' writer (None when off), on its ``model`` (a ``tune expressions`` version or
        its champion) or else on the LLM of ``model``."""
        from ragtune.generation.expressions import expression_writers

        cfg = self.config.answer.expressions
        if cfg.writer is None:
            return None
        llm = self.llm_for(self.registry.resolve(cfg.model, "expressions").id if cfg.model else model)
        return expression_writers.get(cfg.writer)(cfg, llm)

    @property
    def verdicts(self) -> VerdictReader | None:
        """The ``answer.verdicts`` reader (``ragtune tune verdicts``), or None; ``champion`` is resolved on each
        use, so a newly promoted champion answers from then on."""
        return self.verdict_reader(self.config.answer.verdicts)

    def verdict_reader(self, ref: str | None) -> VerdictReader | None:
        """The verdict reader of ``ref``: a registry version id, ``champion`` (of ``verdicts``; None while there is
        none) or a folder (relative to the project); None for None. Loaded once per folder on the current index."""
        from ragtune.generation.verdicts import VerdictModel, VerdictReader
        from ragtune.model_registry import is_version_ref

        if ref is None or (ref == "champion" and self.registry.champion("verdicts") is None):
            return None
        if not is_version_ref(ref):
            folder = Path(ref).expanduser()
            folder = folder if folder.is_absolute() else self.root / folder
        else:
            folder = self.registry.folder(self.registry.resolve(ref, "verdicts"))
        if folder not in self._verdicts:
            self._verdicts[folder] = VerdictReader(VerdictModel.load(folder), self.store)
        return self._verdicts[folder]

    def cross_encoder(self, ref: str, role: str = "reranker"):
        """A loaded cross-encoder (loaded once per project): ``champion``, the champion of ``role`` (``reranker``:
        ``ragtune tune reranker``; ``scorer``, the answer-sentence scorer: ``ragtune tune reader``), a registry
        version id of either, a local folder, or an installed model package / hub id."""
        from ragtune.model_registry import is_version_ref
        from ragtune.models import model_dir
        from ragtune.training.reranker import load_cross_encoder

        if not is_version_ref(ref):
            path = model_dir(ref)
        elif ref == "champion":  # resolved on each use: a newly promoted champion scores from then on
            if (champion := self.registry.champion(role)) is None:
                how = "`ragtune tune reader`" if role == "scorer" else \
                    "`ragtune tune reranker` and promote it (`llm_rerank` needs no model)"
                raise ConfigError(f"no cross-encoder configured: name a local path or hub id, or train one "
                                  f"with {how}")
            path = str(self.registry.folder(champion))
        else:
            version = self.registry.get(ref)
            if version.kind not in ("reranker", "scorer"):
                raise InputError(f"{version.id} is a {version.kind} model, not a cross-encoder")
            path = str(self.registry.folder(version))
        if path not in self._cross_encoders:
            self._cross_encoders[path] = load_cross_encoder(path)
        return self._cross_encoders[path]

    def ask(self, question: str, top_k: int | None = None, filters: dict | None = None,
            on_token: Callable[[str], None] | None = None, pipeline: str | None = None, record: bool = False,
            model: str | None = None, strategy: str | None = None, details: dict[str, Any] | None = None,
            scorer: str | None = None, verdicts: str | None = None):
        """Retrieve with a pipeline, answer with a strategy (default ``answer.strategy``), cite and check the
        chunks it uses. ``record`` stores the answer in the feedback store (with ``details`` of the request) and
        sets its ``answer_id``; ``model`` picks a fine-tuned version (see ``llm_for``), ``scorer`` and
        ``verdicts`` the reader's models (see ``answer_strategy``)."""
        from ragtune.feedback.answers import record_shown
        from ragtune.generation.answer import CitedAnswerer

        if not question.strip():
            raise InputError("the question is empty")
        if self.store.count_chunks() == 0:
            raise InputError(f"the index of {self.root} is empty: run `ragtune ingest PATH` first")
        answerer = CitedAnswerer(self.pipeline(pipeline), self.answer_strategy(strategy, model, scorer, verdicts),
                                 self.embedder, self.store, self.config.retrieval.min_relevance, self.config.prices)
        answer = answerer.answer(question, top_k, filters, on_token)
        if record:
            version = None if model in (None, "base") else self.registry.get(model).id
            answer.answer_id = record_shown(self.feedback, answer, version or answer.model or self.config.llm.model,
                                            details)
        return answer

    def evaluate_retrieval(self, data: str | Path, pipelines: list[str], **options):
        """``ragtune eval retrieval``: pipelines scored on a BEIR folder with this project's chunker, embedder
        and pipelines; the corpus index is cached under ``.ragtune/eval/beir/``. Returns a RetrievalReport."""
        return evaluate_retrieval(data, pipelines, self.config, cache_dir=self.workdir / "eval" / "beir",
                                  registry_dir=self.registry_dir, **options)

    def synthesize(self, n: int | None = None, name: str = "synth", **options: Any):
        """Synthetic QA pairs from this project's chunks into ``.ragtune/datasets/<name>/`` (``datasets``
        settings); a DatasetReport. ``options``: types, split_by, seed, on_start, on_slot."""
        from ragtune.datasets.synth import synthesize

        return synthesize(self.retrieval_resources, lambda: self.llm, self.config.llm, self.config.datasets,
                          self.workdir, n, name, **options)

    def import_qa(self, path: str | Path, name: str = "imported", **options: Any):
        """A user QA file validated, deduplicated and split into ``.ragtune/datasets/<name>/``; a DatasetReport.
        ``options``: question_column, answer_column, split_by, seed."""
        from ragtune.datasets.importer import import_qa

        return import_qa(self.embedder, self.config.datasets, self.workdir, path, name, **options)

    def built(self, name: str) -> bool:
        """Whether the collaborator ``name`` (``store``, ``feedback``, ...) has been built (opened) yet."""
        return name in vars(self)

    def _forget_index(self) -> None:
        """Drop what was built from the index (``INDEX_BUILT``, the pipelines); the next use builds it anew."""
        for name in self.INDEX_BUILT:
            with suppress(AttributeError):  # not built
                delattr(self, name)
        self._pipelines.clear()
        self._verdicts.clear()

    def close(self) -> None:
        """Close the index store and the feedback store, if open."""
        if self.built("store"):
            self.store.close()
        if self.built("feedback"):
            self.feedback.close()


def reopened_bench_system(root: Path, registry_dir: Path, config: ProjectConfig, threads: int | None = None):
    """``Project(root).bench_system`` with ``config``, opened in another process (a Ray worker of ``bench``); its
    LLM runs on ``threads`` threads unless ``llm.threads`` is set."""
    if threads and config.llm.threads is None:
        config = config.model_copy(update={"llm": config.llm.model_copy(update={"threads": threads})})
    return Project(root, registry_dir, config).bench_system


def retrieval_evaluation(data: str | Path, config: ProjectConfig | None = None,
                         registry_dir: str | Path | None = None, **options: Any):
    """A RetrievalEvaluation of ``data`` (a BEIR folder) whose scratch index is an in-memory project with
    ``config``'s chunker, embedder and pipelines; ``registry_dir`` (a ``.ragtune/`` folder) resolves version ids
    and ``champion`` in the embedder and ``rerank`` settings. ``options`` go to RetrievalEvaluation."""
    from ragtune.evaluation.retrieval import RetrievalEvaluation
    from ragtune.index.embedder import Embedder
    from ragtune.model_registry import ModelRegistry

    config = config or ProjectConfig()
    registry = ModelRegistry(registry_dir) if registry_dir is not None else None

    def open_index(root: Path) -> Project:
        (root / WORKDIR).mkdir(parents=True, exist_ok=True)
        return Project(root, registry_dir=registry_dir, config=config.model_copy(update={"name": f"beir-{root.name}"}))

    return RetrievalEvaluation(data, config.chunker.model_dump(mode="json"),
                               Embedder(config.embedder, registry).identity, open_index, **options)


def evaluate_retrieval(data: str | Path, pipelines: list[str], config: ProjectConfig | None = None,
                       registry_dir: str | Path | None = None, **options: Any):
    """Index ``data`` (cached) and evaluate each pipeline; a RetrievalReport. ``options`` go to
    RetrievalEvaluation."""
    from ragtune.evaluation.retrieval import RetrievalReport

    ev = retrieval_evaluation(data, config, registry_dir, **options)
    try:
        info = ev.index()
        results = [ev.run(p) for p in pipelines]
    finally:
        ev.close()
    return RetrievalReport(str(data), ev.dataset.split, len(ev.dataset.queries), info, results)
