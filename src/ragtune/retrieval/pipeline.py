"""Retrieval pipelines: pre-retrieval, retrieval and post-retrieval components run in order on a shared
``QueryContext``. A pipeline is a spec string (``"hyde+hybrid+llm_rerank"``) or a named list of
component configs in ``ragtune.yaml`` (``pipelines:``); every stage is traced for ``ask --json``."""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from ragtune.errors import ConfigError
from ragtune.registry import Registry
from ragtune.retrieval.hybrid import Hit
from ragtune.retrieval.resources import RetrievalResources

log = logging.getLogger("ragtune.pipeline")
Kind = Literal["pre", "retrieve", "post"]
_ORDER = {"pre": 0, "retrieve": 1, "post": 2}


class ComponentConfig(BaseModel):
    """Base of every component's typed config; ``name`` selects the component."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())
    name: str


@dataclass
class StageTrace:
    """What one stage did: shown per stage in ``ask --json``."""

    stage: str
    kind: str
    seconds: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    llm_seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    def add(self, gen) -> None:
        """Book one LLM call (a Generation) to this stage."""
        self.prompt_tokens += gen.prompt_tokens
        self.completion_tokens += gen.completion_tokens
        self.llm_seconds += gen.latency_s


def generate_traced(llm, messages: list[dict[str, str]], stage: str, max_tokens: int, retries: int, seed: int,
                    traces: list[StageTrace]) -> str:
    """The LLM's reply, each call booked as a stage in ``traces``; an empty reply is retried ``retries`` times,
    warmer each time, before returning ""."""
    for attempt in range(retries + 1):
        trace = StageTrace(stage if not attempt else f"{stage}[retry {attempt}]", "generate")
        t0 = time.perf_counter()
        gen = llm.generate(messages, max_tokens=max_tokens, temperature=0.4 * attempt, seed=seed + attempt)
        trace.add(gen)
        trace.seconds = round(time.perf_counter() - t0, 4)
        traces.append(trace)
        if gen.text.strip():
            return gen.text.strip()
    return ""


@dataclass
class QueryContext:
    """The state a pipeline works on. Pre-retrieval stages fill ``queries``, ``dense_texts`` and
    ``sub_questions``; retrieval fills ``hits``; post-retrieval reorders, filters or rewrites them."""

    question: str
    top_k: int
    fetch_k: int
    filters: dict | None = None
    queries: list[str] = field(default_factory=list)
    dense_texts: list[str] = field(default_factory=list)
    sub_questions: list[str] = field(default_factory=list)
    focus: str | None = None  # what to look for inside the documents, when a stage narrowed them
    route: str | None = None
    hits: list[Hit] = field(default_factory=list)
    best_similarity: float | None = None
    trace: list[StageTrace] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.queries = self.queries or [self.question]

    def warn(self, message: str) -> None:
        log.warning(message)
        self.warnings.append(message)

    @property
    def usage(self) -> dict[str, int]:
        return {"prompt_tokens": sum(t.prompt_tokens for t in self.trace),
                "completion_tokens": sum(t.completion_tokens for t in self.trace)}


class Component(ABC):
    """One technique. Subclasses set ``kind`` and ``Config`` and implement ``run``, returning the details
    to trace. A component gets what it uses in ``resources``; ``chat`` calls their LLM and books its tokens to
    the running stage."""

    name: ClassVar[str]
    kind: ClassVar[Kind]
    Config: ClassVar[type[ComponentConfig]]
    narrows: ClassVar[bool] = False  # post stages that pick the best of many candidates

    def __init__(self, config: ComponentConfig, resources: RetrievalResources) -> None:
        self.config = config
        self.resources = resources
        self._trace: StageTrace | None = None

    @abstractmethod
    def run(self, ctx: QueryContext) -> dict[str, Any]:
        """Change ``ctx``; return what to record in the trace."""

    def chat(self, prompt: str, system: str | None = None, **options: Any) -> str:
        messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
        gen = self.resources.llm().generate(messages, **options)
        if self._trace is not None:
            self._trace.add(gen)
        return gen.text.strip()

    def __call__(self, ctx: QueryContext) -> None:
        trace = StageTrace(self.name, self.kind)
        self._trace = trace
        t0 = time.perf_counter()
        try:
            trace.details = self.run(ctx) or {}
        finally:
            trace.seconds = round(time.perf_counter() - t0, 4)
            self._trace = None
            ctx.trace.append(trace)


components: Registry[Component] = Registry("pipeline component")


def _import_components() -> None:
    """Import the modules that register components (kept out of module import time)."""
    import importlib

    for module in ("retrieval.first_stage", "retrieval.pre.rewrite", "retrieval.pre.hyde",
                   "retrieval.pre.multi_query", "retrieval.pre.decompose", "retrieval.pre.step_back",
                   "retrieval.pre.router", "retrieval.pre.document_filter", "retrieval.pre.operand_queries",
                   "retrieval.post.llm_rerank", "retrieval.post.cross_encoder_rerank",
                   "retrieval.post.mmr", "retrieval.post.dedupe", "retrieval.post.reorder",
                   "retrieval.post.compress", "retrieval.post.sentence_window", "retrieval.post.graph",
                   "retrieval.post.document_head", "retrieval.post.operand_rows"):
        importlib.import_module(f"ragtune.{module}")


def component_config(item: str | dict[str, Any]) -> ComponentConfig:
    """A validated config for a component named by a string or given as a mapping with ``name``."""
    _import_components()
    data = {"name": item} if isinstance(item, str) else dict(item)
    cls = components.get(str(data.get("name")))
    try:
        return cls.Config.model_validate(data)
    except ValidationError as e:
        raise ConfigError(f"pipeline component {data.get('name')!r}: {e.errors()[0]['msg']} "
                          f"({'.'.join(map(str, e.errors()[0]['loc']))})") from None


@dataclass
class PipelineSpec:
    name: str
    stages: list[ComponentConfig]

    def to_dict(self) -> dict:
        return {"name": self.name, "stages": [s.model_dump() for s in self.stages]}


def parse_spec(spec: str, named: dict[str, list[str | dict[str, Any]]], default_retriever: str) -> PipelineSpec:
    """A named pipeline from the config, or a ``+``-joined list of component names. A retrieval stage is
    added when none is given; stages are checked to run pre -> retrieve -> post."""
    items = named[spec] if spec in named else [s.strip() for s in spec.split("+") if s.strip()]
    if not items:
        raise ConfigError(f"pipeline {spec!r} is empty")
    stages = [component_config(i) for i in items]
    kinds = [components.get(s.name).kind for s in stages]
    if "retrieve" not in kinds:
        at = next((i for i, k in enumerate(kinds) if k == "post"), len(stages))
        stages.insert(at, component_config(default_retriever))
        kinds.insert(at, "retrieve")
    if [_ORDER[k] for k in kinds] != sorted(_ORDER[k] for k in kinds):
        raise ConfigError(f"pipeline {spec!r}: stages must run pre-retrieval, retrieval, then post-retrieval "
                          f"(got {', '.join(f'{s.name}:{k}' for s, k in zip(stages, kinds, strict=True))})")
    if kinds.count("retrieve") > 1:
        raise ConfigError(f"pipeline {spec!r}: only one retrieval stage")
    return PipelineSpec(spec, stages)


class Pipeline:
    """Runs a spec's components on ``resources``. ``router`` may switch to another named pipeline after
    pre-retrieval: ``resolve`` turns its name into that pipeline."""

    def __init__(self, spec: PipelineSpec, resources: RetrievalResources,
                 resolve: Callable[[str], Pipeline] | None = None) -> None:
        self.spec = spec
        self.resources = resources
        self.resolve = resolve
        self.components = [components.get(c.name)(c, resources) for c in spec.stages]

    @property
    def name(self) -> str:
        return self.spec.name

    def run(self, question: str, top_k: int | None = None, filters: dict | None = None,
            skip: tuple[str, ...] = ()) -> QueryContext:
        """Pre-retrieval, retrieval and post-retrieval for ``question``; ``skip`` names kinds of stage
        not to run (sub-questions skip decomposition)."""
        settings = self.resources.settings
        top_k = top_k or settings.top_k
        narrowing = any(c.narrows for c in self.components)
        fetch_k = max(top_k, settings.candidates) if narrowing else top_k
        ctx = QueryContext(question, top_k, fetch_k, filters)
        for component in self.components:
            if component.name in skip:
                continue
            component(ctx)
            if ctx.route and ctx.route != self.name:
                if self.resolve is None:
                    raise ConfigError(f"pipeline {self.name!r} routes to {ctx.route!r} but was given no resolver")
                routed = self.resolve(ctx.route).run(question, top_k, filters, skip=("router",))
                routed.trace[:0] = ctx.trace
                return routed
        ctx.hits = ctx.hits[:ctx.top_k]  # a stage may widen it (operand_rows: every operand's row)
        return ctx


def trace_dicts(ctx: QueryContext) -> list[dict]:
    return [asdict(t) for t in ctx.trace]
