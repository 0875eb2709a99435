"""What a metric sees (one arm's answer to one question) and the metric interface and registry."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from ragtune.registry import Registry
from ragtune.text import strip_markers

if TYPE_CHECKING:
    from ragtune.evaluation.config import BenchConfig
    from ragtune.index.embedder import Embedder
    from ragtune.llm import LLM


@dataclass
class Sample:
    """One answer to score. ``contexts`` are the retrieved passages in rank order (None: the arm does not
    retrieve); ``gold_contexts`` the evidence passages of the question, when the question set has them;
    ``label`` its short categorical answer (Yes/No, a date), when known. Metrics may add details (a judge's
    verdict) to ``notes``."""

    question: str
    reference: str
    answer: str
    answered: bool
    unanswerable: bool = False
    contexts: list[str] | None = None
    gold_contexts: list[str] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)
    label: str | None = None

    @property
    def plain_answer(self) -> str:
        """The answer without its [n] citation markers ('' for a refusal)."""
        return strip_markers(self.answer).strip() if self.answered else ""


class MetricEnv:
    """What metrics share: the bench config, the embedder, and the judge LLM (made on first use);
    ``judge_usable`` is False when the judge failed its calibration (``metrics.judge.calibrate``)."""

    def __init__(self, config: BenchConfig, embedder: Embedder | None = None,
                 judge: Callable[[], LLM] | None = None) -> None:
        self.config = config
        self.embedder = embedder
        self._make_judge = judge
        self.judge_usable = True

    @cached_property
    def judge(self) -> LLM:
        if self._make_judge is None:
            raise ValueError("answer_correctness needs a judge LLM")
        return self._make_judge()


class Metric(ABC):
    """A per-question score in [0, 1], or None when it does not apply to the sample (context metrics for
    an arm without retrieval, refusal metrics on answerable questions)."""

    name: ClassVar[str]
    description: ClassVar[str]

    def __init__(self, env: MetricEnv) -> None:
        self.env = env

    @abstractmethod
    def score(self, sample: Sample) -> float | None:
        """Score one sample."""


metrics: Registry[Metric] = Registry("metric")
