"""Benchmark arms: the approaches a benchmark compares, registered by kind. ``--arms`` names them as
``kind`` or ``kind:arg`` (``rag:decompose`` = RAG with the pipeline named ``decompose``); arms that retrieve
also take an answer strategy (``rag:extract``, ``rag-advanced:extract+generate``, ``rag:decompose:generate``).

A fine-tuned arm is a closed-book or RAG arm whose LLM is a version from the model registry
(``BenchSystem.llm_for``): ``sft`` (default: the latest SFT version), ``sft+dpo`` (the latest DPO version, trained
on an SFT parent) and ``rag+sft`` (``Project.ask`` with the latest SFT version generating); ``sft:v3`` names
a version. ``rag+tuned`` keeps the LLM and answers with the reader models ``ragtune tune reader`` promoted."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ragtune.errors import InputError
from ragtune.registry import Registry, UnknownComponentError

if TYPE_CHECKING:
    from ragtune.evaluation.questions import Question
    from ragtune.evaluation.system import BenchSystem
    from ragtune.llm import LLM
    from ragtune.model_registry import ModelVersion


@dataclass
class ArmAnswer:
    """One answer and what it took. ``contexts`` are the passages shown to the model (None: no
    retrieval); ``llm_s`` is the time spent in LLM calls, the rest of ``latency_s`` is retrieval."""

    answer: str
    answered: bool
    contexts: list[dict[str, Any]] | None
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    llm_s: float
    model: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainingRun:
    """The measured cost drivers of a fine-tuned model version."""

    hours: float
    examples: int
    tokens: int | None = None


class Arm(ABC):
    """One approach. ``name`` is the registered kind; ``label`` names this arm in results. In the ``arg`` of an
    arm that retrieves, a part naming an answer strategy (``rag:extract``) selects it."""

    name: ClassVar[str]
    retrieves: ClassVar[bool] = False
    fine_tuned: ClassVar[bool] = False
    default_arg: ClassVar[str | None] = None

    def __init__(self, system: BenchSystem, arg: str | None = None) -> None:
        self.system = system
        self.strategy: str | None = None
        if self.retrieves and arg:
            from ragtune.generation.strategies import strategies

            parts = arg.split(":")
            named = [p for p in parts if p in strategies.names()]
            self.strategy = named[-1] if named else None
            arg = ":".join(p for p in parts if p not in named)
        self.arg = arg or self.default_arg

    @property
    def label(self) -> str:
        label = self.name if self.arg == self.default_arg else f"{self.name}:{self.arg}"
        return f"{label}:{self.strategy}" if self.strategy else label

    @abstractmethod
    def answer(self, question: Question) -> ArmAnswer:
        """Answer one question (of its own document, when the question names one)."""

    @abstractmethod
    def fingerprint(self) -> dict[str, Any]:
        """Everything that determines this arm's answers; a saved answer is reused only when it matches."""

    @property
    def price_key(self) -> str:
        """The model name the price sheet is looked up by."""
        return self.system.llm_config.model

    def training(self) -> TrainingRun | None:
        """The measured training of a fine-tuned arm (None for arms that are not trained)."""
        return None

    def training_files(self) -> list[Path]:
        """The train splits this arm's model learned from (none for arms that are not trained)."""
        return []


arms: Registry[Arm] = Registry("bench arm")

@arms.register("base")
class ClosedBookArm(Arm):
    """The configured LLM answering from what it learned in training, without retrieval, prompted like the
    closed-book fine-tuning examples (``training.sft.system_prompt``) so that base and tuned models compare
    on the same prompt."""

    @cached_property
    def llm(self) -> LLM:
        return self.system.llm_for(None)

    @property
    def system_prompt(self) -> str:
        return self.system.sft_system_prompt

    def answer(self, question: Question) -> ArmAnswer:
        from ragtune.generation.answer import is_refusal
        from ragtune.generation.prompts import NO_ANSWER

        text = question.question
        if question.document:
            text = f"About {Path(question.document).stem}: {text}"
        gen = self.llm.generate([{"role": "system", "content": self.system_prompt},
                                 {"role": "user", "content": text}])
        answered = not is_refusal(gen.text)
        return ArmAnswer(gen.text.strip() if answered else NO_ANSWER, answered, None, gen.prompt_tokens,
                         gen.completion_tokens, round(gen.latency_s, 4), round(gen.latency_s, 4), gen.model)

    def fingerprint(self) -> dict[str, Any]:
        return {"kind": self.name, "arg": self.arg, "llm": self.system.llm_config.model_dump(mode="json"),
                "prompt": self.system_prompt}


@arms.register("rag")
class RagArm(Arm):
    """``Project.ask``: retrieval with a pipeline (``rag:NAME``; default: the configured one), then a cited
    answer grounded in the retrieved passages by an answer strategy (default: ``answer.strategy``). A question
    that names its document is asked of that document alone."""

    retrieves = True
    default_strategy: ClassVar[str | None] = None  # None: the configured answer.strategy

    @property
    def pipeline(self) -> str | None:
        return self.arg

    @property
    def answer_strategy(self) -> str:
        return self.strategy or self.default_strategy or self.system.answer.strategy

    def ask_options(self) -> dict[str, Any]:
        return {"pipeline": self.pipeline, "strategy": self.answer_strategy}

    def answer(self, question: Question) -> ArmAnswer:
        from ragtune.index.store import glob_escape

        filters = {"source": f"*{glob_escape(question.document)}"} if question.document else None
        a = self.system.ask(question.question, filters=filters, **self.ask_options())
        contexts = [{k: c[k] for k in ("chunk_id", "source", "page", "text")} for c in a.chunks]
        llm_s = sum(s.get("llm_seconds", 0.0) for s in a.stages)
        return ArmAnswer(a.answer, a.answered, contexts, a.usage["prompt_tokens"], a.usage["completion_tokens"],
                         a.latency_s, round(llm_s, 4), a.model or self.system.llm_config.model)

    def fingerprint(self) -> dict[str, Any]:
        settings = self.system.settings_fingerprint()
        return {"kind": self.name, "arg": self.arg, "llm": settings["llm"],
                "pipeline": self.system.pipeline(self.pipeline).spec.to_dict(),
                "strategy": self.answer_strategy, "answer": settings["answer"], "retrieval": settings["retrieval"],
                "chunker": settings["chunker"], "embedder": settings["embedder"],
                "index_generation": self.system.store.generation()}


@arms.register("rag-advanced")
class AdvancedRagArm(RagArm):
    """RAG with the pipeline named ``advanced`` (multi-query, hybrid retrieval, dedupe, MMR, reorder)."""

    default_arg = "advanced"


class _FineTuned:
    """A model version of the registry: ``arg`` is a version id, ``champion``, or None for the latest version
    of ``version_kind``. Its training cost sums the measured training of the version and its ancestors."""

    fine_tuned = True
    version_kind: ClassVar[str] = "sft"
    system: BenchSystem
    arg: str | None

    @property
    def registry(self):
        return self.system.registry

    @cached_property
    def version(self):
        if self.arg:
            return self.registry.get(self.arg)
        found = self.registry.list(self.version_kind)
        if not found:
            raise InputError(f"no {self.version_kind} model version to benchmark: run `ragtune tune "
                             f"{self.version_kind}` first")
        return found[-1]

    @property
    def price_key(self) -> str:
        return self.version.id

    def version_fingerprint(self) -> dict[str, Any]:
        return {"version": self.version.id, "created": self.version.created, "data": self.version.data_hashes}

    def lineage(self) -> list:
        """The version and its ancestors."""
        chain = [self.version]
        while chain[-1].parent:
            chain.append(self.registry.get(chain[-1].parent))
        return chain

    def training(self) -> TrainingRun:
        metrics = [v.metrics for v in self.lineage()]
        return TrainingRun(sum(float(m.get("seconds") or 0.0) for m in metrics) / 3600,
                           sum(int((m.get("examples") or {}).get("train", 0)) for m in metrics),
                           sum(int(m.get("tokens") or 0) for m in metrics))

    def training_files(self) -> list[Path]:
        dirs = [v.config.get("dataset_dir") for v in self.lineage()]
        return [Path(d) / "train.jsonl" for d in dirs if d and (Path(d) / "train.jsonl").is_file()]


@arms.register("sft")
class FineTunedArm(_FineTuned, ClosedBookArm):
    """A supervised fine-tuned version answering closed-book (with the training's system prompt)."""

    @cached_property
    def llm(self) -> LLM:
        return self.system.llm_for(self.version.id)

    def fingerprint(self) -> dict[str, Any]:
        return super().fingerprint() | self.version_fingerprint()


@arms.register("sft+dpo")
class PreferenceTunedArm(FineTunedArm):
    """A version preference-tuned with DPO on top of an SFT parent, answering closed-book."""

    version_kind = "dpo"


@arms.register("rag+sft")
class FineTunedRagArm(_FineTuned, RagArm):
    """RAG (the configured pipeline) whose answers a fine-tuned version generates (``Project.ask(model=...)``)
    from the passages (strategy ``generate``, unless the arm names another: ``rag+sft:extract+generate``)."""

    default_strategy = "generate"

    @property
    def pipeline(self) -> str | None:
        return None

    def ask_options(self) -> dict[str, Any]:
        return super().ask_options() | {"model": self.version.id}

    def fingerprint(self) -> dict[str, Any]:
        return super().fingerprint() | self.version_fingerprint()


@arms.register("rag+tuned")
class TunedReaderRagArm(RagArm):
    """RAG like ``rag`` (``rag+tuned:PIPELINE``, ``rag+tuned:extract``) answered by the tuned reader: the promoted
    models of ``ragtune tune reader``, the ``scorer`` champion as ``answer.scorer`` and the ``verdicts`` champion as
    ``answer.verdicts``, whichever exist (the configured setting stands in for a missing one). Its training cost is
    the measured training seconds of those versions and, as examples, the labels they learned from (one labels
    file: the largest count)."""

    fine_tuned = True
    reader_kinds: ClassVar[tuple[str, ...]] = ("scorer", "verdicts")

    def __init__(self, system: BenchSystem, arg: str | None = None) -> None:
        super().__init__(system, arg)
        self.reader: dict[str, ModelVersion] = {
            kind: v for kind in self.reader_kinds if (v := system.registry.champion(kind)) is not None}
        if not self.reader:
            raise InputError(f"{self.label}: no promoted reader model (a scorer or verdicts champion) to benchmark: "
                             "run `ragtune tune reader` first")

    def ask_options(self) -> dict[str, Any]:
        return super().ask_options() | {kind: v.id for kind, v in self.reader.items()}

    def fingerprint(self) -> dict[str, Any]:
        return super().fingerprint() | {"reader": {kind: {"version": v.id, "created": v.created,
                                                          "data": v.data_hashes} for kind, v in self.reader.items()}}

    def training(self) -> TrainingRun:
        metrics = [v.metrics for v in self.reader.values()]
        return TrainingRun(sum(float(m.get("seconds") or 0.0) for m in metrics) / 3600,
                           max(int(m.get("labels") or 0) for m in metrics))


def make_arms(system: BenchSystem, specs: list[str]) -> list[Arm]:
    """Arms from ``kind[:arg]`` strings; each label may appear once."""
    made: list[Arm] = []
    for spec in (s.strip() for s in specs):
        if not spec:
            continue
        kind, _, arg = spec.partition(":")
        try:
            arm = arms.get(kind)(system, arg or None)
        except UnknownComponentError as e:
            raise InputError(f"--arms: {e}") from None
        if any(a.label == arm.label for a in made):
            raise InputError(f"--arms: {arm.label} is listed twice")
        made.append(arm)
    if not made:
        raise InputError("--arms: name at least one arm (for example base,rag)")
    return made
