"""How an answer is made from the retrieved passages: the strategy interface and its registry."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

from ragtune.packs import AnswerPack, packs
from ragtune.registry import Registry
from ragtune.retrieval.pipeline import StageTrace

if TYPE_CHECKING:
    from collections.abc import Callable

    from ragtune.documents.models import Chunk
    from ragtune.generation.config import AnswerConfig
    from ragtune.generation.expressions import ExpressionWriter
    from ragtune.generation.strategies.selection import SentenceSelector
    from ragtune.generation.verdicts import VerdictReader
    from ragtune.llm import LLM, Message, OnToken


class AnswerStrategy(ABC):
    """Turns a question and its numbered passages into answer text with ``[n]`` markers (or a refusal).
    Every LLM call is booked as a stage in ``traces``. The domain's rules come from ``pack`` (``answer.pack``;
    None: the generic pack, no rule); ``writer`` is the expression writer (``answer.expressions``), or None."""

    name: ClassVar[str]
    uses_llm: ClassVar[bool] = True
    cites_itself: ClassVar[bool] = False  # every sentence of its answers carries its passage's marker

    def __init__(self, config: AnswerConfig, llm: LLM, selector: SentenceSelector,
                 verdicts: VerdictReader | None = None, pack: AnswerPack | None = None,
                 writer: ExpressionWriter | None = None) -> None:
        self.config = config
        self.llm = llm
        self.selector = selector
        self.verdicts = verdicts
        self.writer = writer
        self.pack = pack if pack is not None else packs.get("generic")()

    def states(self, form: str | None) -> Callable[[str], bool] | None:
        """What earns a sentence ``answer.form_bonus`` for a question of ``form`` (the pack's ``states_form``)."""
        return None if form is None else lambda text: self.pack.states_form(form, text)

    def trained_verdict(self, question: str, chunks: list[Chunk]) -> str | None:
        """Yes/No from the trained verdict model (``answer.verdicts``) when it knows ``question``, else None."""
        return self.verdicts.verdict(question, chunks) if self.verdicts else None

    @abstractmethod
    def respond(self, question: str, chunks: list[Chunk], traces: list[StageTrace], stage: str = "generate",
                notes: str | None = None, on_token: OnToken | None = None, focus: str | None = None) -> str:
        """The answer to ``question`` from ``chunks`` (cited as [1]..[n] in their order); ``focus`` is what to
        look for in them, when retrieval narrowed the question (``QueryContext.focus``)."""

    def call(self, messages: list[Message], traces: list[StageTrace], stage: str,
             on_token: OnToken | None = None, llm: LLM | None = None, **options) -> str:
        """``llm``'s reply (default: the strategy's), booked as stage ``stage`` in ``traces``."""
        trace = StageTrace(stage, "generate")
        t0 = time.perf_counter()
        gen = (llm or self.llm).generate(messages, on_token=on_token, **options)
        trace.add(gen)
        trace.seconds = round(time.perf_counter() - t0, 4)
        traces.append(trace)
        return gen.text.strip()


strategies: Registry[AnswerStrategy] = Registry("answer strategy")
