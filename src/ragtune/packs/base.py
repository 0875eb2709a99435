"""The answer-pack interface: the hooks through which a domain's rules reach the generic answer path.

A pack is one registered class with a typed ``Config`` (``answer.pack`` names it, ``answer.pack_options`` fills
its config). The generic layers (sentence selection, the extractive reader, ``document_head``, the prompts) ask
the pack; this base class answers every hook with "no rule", which is the ``generic`` pack's behaviour. Hooks take
plain strings, so this layer sits below the index and retrieval layers that call it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field


class PackConfig(BaseModel):
    """Options every pack has (``answer.pack_options``); a pack's own ``Config`` subclasses it."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())
    yes_threshold: float | None = Field(
        None, description="Questions the pack gives a Yes/No verdict (``yes_no``): Yes when a quoted sentence's "
        "embedder cosine to the question is at least this, else No; None: quote without a verdict.")
    head_chars: int = Field(1500, ge=1, description="A document's opening: the chunks that start within this many "
                            "characters of its beginning (``about_document`` questions are answered from it).")


@dataclass(frozen=True)
class Operand:
    """A value a calculation needs: ``name`` in the expression, ``label`` as an answer prints it ("total current
    liabilities FY2015"), ``query``: what to look for in the passages (a question asking for this value alone)."""

    name: str
    label: str
    query: str


@dataclass(frozen=True)
class Calculation:
    """What a question asks to compute: ``expression`` over the ``operands``' names (``ragtune.generation.
    arithmetic`` evaluates it), ``label`` the quantity computed, ``percent`` a ratio asked as a percentage
    (already multiplied by 100 in the expression), ``decimals`` the rounding asked (None: none asked);
    ``verdict``: the value decides a yes/no question (``format_result`` words it as Yes or No)."""

    label: str
    expression: str
    operands: tuple[Operand, ...]
    percent: bool = False
    decimals: int | None = None
    verdict: bool = False


@dataclass(frozen=True)
class Cell:
    """A value a passage states for a line item in a period (a table row's cell): ``item`` and ``period`` as an
    operand's label names them, ``value`` with its scale, ``printed``: the row and column as an answer cites them."""

    item: str
    period: str
    value: float
    printed: str


class AnswerPack:
    """Domain rules for answers. Every hook of this base says "no rule": the question gets the best sentences,
    quoted and cited, with no form, no verdict and no document answer."""

    name: ClassVar[str]
    Config: ClassVar[type[PackConfig]] = PackConfig
    pipeline: ClassVar[str | None] = None
    """The retrieval pipeline this pack was measured with (None: ``retrieval.pipeline``)."""
    strategy: ClassVar[str | None] = None
    """The answer strategy this pack was measured with (None: ``answer.strategy``)."""
    graph_extractor: ClassVar[str | None] = None
    """The knowledge-graph extractor that gives this pack's rules, by its registered name (None:
    ``index.graph.extractor``)."""

    def __init__(self, config: PackConfig | None = None) -> None:
        self.config = config if config is not None else self.Config()

    def form(self, question: str) -> str | None:
        """The kind of value ``question`` asks for, a name of the pack's own ("date", "amount"...); None: the
        answer quotes sentences."""
        return None

    def states_form(self, form: str, text: str) -> bool:
        """Whether a sentence (or table row) ``text`` holds a value of ``form`` (sentence selection adds
        ``answer.form_bonus`` to its score)."""
        return False

    def read(self, question: str, form: str, text: str) -> list[str]:
        """The values of ``form`` written in ``text``, best first, as they should be answered ("30 days")."""
        return []

    def yes_no(self, question: str) -> bool:
        """Whether ``question`` gets a Yes/No verdict (thresholded at ``config.yes_threshold``)."""
        return False

    def about_document(self, question: str) -> bool:
        """Whether ``question`` asks about a document as a whole, which its opening (``config.head_chars``)
        answers: ``document_head`` then puts the opening first and ``document_answer`` reads it."""
        return False

    def document_answer(self, question: str, form: str, head: str) -> tuple[int, str] | None:
        """(offset in ``head``, value): the answer a document's opening ``head`` states, or None."""
        return None

    def prompt(self, key: str, default: str) -> str:
        """The domain's wording of the LLM prompt ``key`` (e.g. "extract_generate.system"); ``default`` is the
        generic wording."""
        return default

    def calculation(self, question: str) -> Calculation | None:
        """The calculation ``question`` asks for (``extract+compute`` reads its operands and evaluates it); None:
        the question asks for no calculation the pack can read."""
        return None

    def draft_calculation(self, question: str) -> Calculation | None:
        """A calculation ``question`` asks for whose formula the rules do not know: its label, ``percent``,
        ``decimals`` and the candidate operands, with an empty ``expression`` (the expression writer's to write,
        ``answer.expressions``); None: the question asks for no calculation, or names no operand."""
        return None

    def cells(self, text: str) -> list[Cell]:
        """Every value ``text`` states as an operand could read it (training data for the expression writer)."""
        return []

    def operand(self, operand: Operand, text: str) -> tuple[float, str] | None:
        """(value, the value as printed) of ``operand`` in a passage ``text``, or None when the passage holds none."""
        return None

    def pick_operand(self, operand: Operand, texts: list[str]) -> tuple[int, float, str] | None:
        """(index in ``texts``, value, as printed) of the passage ``operand`` is read from: here the first that
        holds it (``operand``); a pack may rank the readings across passages. None when none holds it."""
        return next(((i, *read) for i, text in enumerate(texts) if (read := self.operand(operand, text)) is not None),
                    None)

    def format_result(self, question: str, calculation: Calculation, value: float) -> str:
        """A computed value as the answer prints it, in the unit and precision ``question`` asks for."""
        digits = 2 if calculation.decimals is None else calculation.decimals
        return f"{value:,.{digits}f}{'%' if calculation.percent else ''}"
