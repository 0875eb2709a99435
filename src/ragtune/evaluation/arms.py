"""Benchmark arms: the approaches a benchmark compares, registered by kind. ``--arms`` names them as
``kind`` or ``kind:arg`` (``rag:decompose`` = RAG with the pipeline named ``decompose``).

Adding an arm is a few lines: a fine-tuned model answering closed-book is a ``ClosedBookArm`` whose ``llm``
is ``project.llm_for(version)``; RAG with a fine-tuned generator is a ``RagArm`` whose ``ask_options`` add
the model version."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from ragtune.errors import InputError
from ragtune.registry import Registry, UnknownComponentError

if TYPE_CHECKING:
    from ragtune.generation.llms.base import LLM
    from ragtune.project import Project


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
    """One approach. ``name`` is the registered kind; ``label`` names this arm in results."""

    name: ClassVar[str]
    retrieves: ClassVar[bool] = False
    fine_tuned: ClassVar[bool] = False
    default_arg: ClassVar[str | None] = None

    def __init__(self, project: Project, arg: str | None = None) -> None:
        self.project = project
        self.arg = arg or self.default_arg

    @property
    def label(self) -> str:
        return self.name if self.arg == self.default_arg else f"{self.name}:{self.arg}"

    @abstractmethod
    def answer(self, question: str) -> ArmAnswer:
        """Answer one question."""

    @abstractmethod
    def fingerprint(self) -> dict[str, Any]:
        """Everything that determines this arm's answers; a saved answer is reused only when it matches."""

    @property
    def price_key(self) -> str:
        """The model name the price sheet is looked up by."""
        return self.project.config.llm.model

    def training(self) -> TrainingRun | None:
        """The measured training of a fine-tuned arm (None for arms that are not trained)."""
        return None


arms: Registry[Arm] = Registry("bench arm")

CLOSED_BOOK = ("Answer the question briefly and directly, in one or two sentences. If you do not know the "
               "answer, reply exactly: {no_answer}")


def closed_book_messages(question: str) -> list[dict[str, str]]:
    from ragtune.generation.prompts import NO_ANSWER

    return [{"role": "system", "content": CLOSED_BOOK.format(no_answer=NO_ANSWER)},
            {"role": "user", "content": question}]


@arms.register("base")
class ClosedBookArm(Arm):
    """The configured LLM answering from what it learned in training, without retrieval."""

    @cached_property
    def llm(self) -> LLM:
        return self.project.llm

    def answer(self, question: str) -> ArmAnswer:
        from ragtune.generation.answer import is_refusal
        from ragtune.generation.prompts import NO_ANSWER

        gen = self.llm.generate(closed_book_messages(question))
        answered = not is_refusal(gen.text)
        return ArmAnswer(gen.text.strip() if answered else NO_ANSWER, answered, None, gen.prompt_tokens,
                         gen.completion_tokens, round(gen.latency_s, 4), round(gen.latency_s, 4), gen.model)

    def fingerprint(self) -> dict[str, Any]:
        return {"kind": self.name, "arg": self.arg, "llm": self.project.config.llm.model_dump(mode="json"),
                "prompt": hashlib.sha256(CLOSED_BOOK.encode()).hexdigest()[:12]}


@arms.register("rag")
class RagArm(Arm):
    """``Project.ask``: retrieval with a pipeline (``rag:NAME``; default: the configured one), then a cited
    answer grounded in the retrieved passages."""

    retrieves = True

    def ask_options(self) -> dict[str, Any]:
        return {"pipeline": self.arg}

    def answer(self, question: str) -> ArmAnswer:
        a = self.project.ask(question, **self.ask_options())
        contexts = [{k: c[k] for k in ("chunk_id", "source", "page", "text")} for c in a.chunks]
        llm_s = sum(s.get("llm_seconds", 0.0) for s in a.stages)
        return ArmAnswer(a.answer, a.answered, contexts, a.usage["prompt_tokens"], a.usage["completion_tokens"],
                         a.latency_s, round(llm_s, 4), a.model or self.project.config.llm.model)

    def fingerprint(self) -> dict[str, Any]:
        cfg = self.project.config
        return {"kind": self.name, "arg": self.arg, "llm": cfg.llm.model_dump(mode="json"),
                "pipeline": self.project.pipeline(self.arg).spec.to_dict(),
                "retrieval": cfg.retrieval.model_dump(mode="json"), "chunker": cfg.chunker.model_dump(mode="json"),
                "embedder": cfg.embedder.model, "index_generation": self.project.store.generation()}


@arms.register("rag-advanced")
class AdvancedRagArm(RagArm):
    """RAG with the pipeline named ``advanced`` (multi-query, hybrid retrieval, dedupe, MMR, reorder)."""

    default_arg = "advanced"


def make_arms(project: Project, specs: list[str]) -> list[Arm]:
    """Arms from ``kind[:arg]`` strings; each label may appear once."""
    made: list[Arm] = []
    for spec in (s.strip() for s in specs):
        if not spec:
            continue
        kind, _, arg = spec.partition(":")
        try:
            arm = arms.get(kind)(project, arg or None)
        except UnknownComponentError as e:
            raise InputError(f"--arms: {e}") from None
        if any(a.label == arm.label for a in made):
            raise InputError(f"--arms: {arm.label} is listed twice")
        made.append(arm)
    if not made:
        raise InputError("--arms: name at least one arm (for example base,rag)")
    return made
