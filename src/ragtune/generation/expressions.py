"""The expression writer: when the answer pack reads that a question asks for a calculation but knows no formula for
it (or always, ``answer.expressions.when``), the LLM is shown the question and the operands read from the passages,
each named (``a = revenue FY2022 = Total revenues, 2022: 1,240 million [2]``), and writes one arithmetic expression
over those names. The expression is checked with the safe evaluator (``arithmetic``): only the names offered, only
arithmetic; anything else is refused, never guessed. Selected by name (``answer.expressions.writer``)."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ragtune.generation.arithmetic import ExpressionError, evaluate, names
from ragtune.registry import Registry

if TYPE_CHECKING:
    from ragtune.llm import LLM, Message
    from ragtune.packs.base import Operand

SYSTEM = ("Write one arithmetic expression that answers the question. Use only the operand names listed, numbers, "
          "+ - * / ( ) and avg(). For a percentage, multiply by 100. Reply with the expression only.")
_FENCE = re.compile(r"^`+(?:python)?|`+$")
_PREFIX = re.compile(r"^\s*(?:expression|answer|result)\s*[:=]\s*", re.I)


class ExpressionsConfig(BaseModel):
    """``answer.expressions``: the LLM's part of ``extract+compute``."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())
    writer: str | None = Field(None, description="The expression writer (llm), or None: the pack's formulas only.")
    when: Literal["fallback", "always"] = Field("fallback", description="fallback: only for a calculation whose "
                                                "formula the pack does not know; always: for every calculation.")
    model: str | None = Field(None, description="The LLM that writes: a version of `ragtune tune expressions` "
                              "(vN, or champion: the promoted one); None: the answering LLM.")
    max_operands: int = Field(8, ge=1, le=26, description="Operands offered at most (the first read).")
    max_tokens: int = Field(48, ge=4, description="Length of the expression written.")

    @field_validator("writer")
    @classmethod
    def _known_writer(cls, name: str | None) -> str | None:
        if name is not None:
            expression_writers.get(name)  # an unknown writer is a validation error naming the known ones
        return name


@dataclass(frozen=True)
class Offered:
    """An operand shown to the writer: its short ``name`` (a, b...), the pack's ``operand``, the ``value`` read,
    the row and column it was ``printed`` in, and the ``passage`` it was read from ([n])."""

    name: str
    operand: Operand
    value: float
    printed: str
    passage: int

    def line(self) -> str:
        return f"{self.name} = {self.operand.label} = {self.printed} [{self.passage}]"


def letters(count: int) -> list[str]:
    """The operand names ``a``, ``b``... (``count`` at most 26)."""
    return list(string.ascii_lowercase[:count])


def prompt(question: str, lines: list[str]) -> list[Message]:
    """The writer's chat messages: the question and one line per offered operand (training uses the same)."""
    listed = "\n".join(lines)
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"Question: {question}\nOperands:\n{listed}\nExpression:"}]


def check(text: str, values: Mapping[str, float]) -> tuple[str, float]:
    """(expression, value) of a writer's reply ``text`` (its first line that is not a code fence, an
    "Expression:" prefix dropped) over the offered operands' ``values``: it must parse as arithmetic, use at least
    one operand and no other name, and call only the evaluator's functions. Raises ExpressionError naming what is
    wrong."""
    lines = (_PREFIX.sub("", _FENCE.sub("", ln.strip())).strip().rstrip(".") for ln in text.splitlines())
    expression = next((ln for ln in lines if ln), "")
    if not expression:
        raise ExpressionError("the writer wrote no expression")
    used = names(expression)
    unknown = sorted(used - set(values))
    if unknown:
        raise ExpressionError(f"{expression!r} names {', '.join(unknown)}, not an operand offered "
                              f"({', '.join(sorted(values))})")
    if not used:
        raise ExpressionError(f"{expression!r} uses none of the operands")
    return expression, evaluate(expression, values)


expression_writers: Registry[ExpressionWriter] = Registry("expression writer")


@expression_writers.register("llm")
class ExpressionWriter:
    """Writes an expression over the offered operands for a question; ``messages`` is what the LLM is shown."""

    name: ClassVar[str]

    def __init__(self, config: ExpressionsConfig, llm: LLM) -> None:
        self.config = config
        self.llm = llm

    def needed(self, has_formula: bool) -> bool:
        """Whether to write for a calculation whose formula the pack knows (``has_formula``) or not."""
        return self.config.when == "always" or not has_formula

    def messages(self, question: str, offered: list[Offered]) -> list[Message]:
        return prompt(question, [o.line() for o in offered])

