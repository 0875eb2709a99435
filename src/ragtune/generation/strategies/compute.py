"""``extract+compute``: a question that asks for a calculation (the pack's ``calculation``: a ratio, a margin, a
change, an average over periods) is answered by reading each operand from the retrieved passages (the pack's
``operand``), evaluating the expression with the safe evaluator and citing every operand: "0.66 [1][2].
Operating cash flow ratio = cash from operations FY2015 / total current liabilities FY2015, where ...". A
calculation whose operands the passages do not all hold is refused, not guessed (a yes/no verdict the pack
would compute is then answered as ``extract`` answers it, as are other questions). No LLM call, unless the
expression writer is on (``answer.expressions``): then a calculation whose formula the pack does not know (its
``draft_calculation``), or every one (``when: always``), gets its expression from the LLM over the operands read,
checked before it is evaluated."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ragtune.generation.arithmetic import ExpressionError, evaluate, names
from ragtune.generation.expressions import Offered, check, letters
from ragtune.generation.prompts import NO_ANSWER
from ragtune.generation.strategies.base import strategies
from ragtune.generation.strategies.extract import Extract
from ragtune.packs.base import Calculation, Operand
from ragtune.text import insert_marker

if TYPE_CHECKING:
    from ragtune.documents.models import Chunk
    from ragtune.retrieval.pipeline import StageTrace

_NAME = re.compile(r"\b[A-Za-z_]\w*\b")


@strategies.register("extract+compute")
class ExtractCompute(Extract):
    """Computes what the pack can read as a calculation; quotes sentences (``extract``) otherwise."""

    def respond(self, question, chunks, traces, stage="generate", notes=None, on_token=None, focus=None) -> str:
        calc = self.pack.calculation(question)
        if self.writer is not None and self.writer.needed(calc is not None):
            draft = self.pack.draft_calculation(question)
            shape = calc or draft
            if shape is not None:
                operands = {o.name: o for c in (calc, draft) if c for o in c.operands}
                text = self.written(question, shape, list(operands.values()), chunks, traces)
                if on_token:
                    on_token(text)
                return text
        if calc is None:
            return super().respond(question, chunks, traces, stage, notes, on_token, focus)
        values: dict[str, float] = {}
        parts: list[str] = []
        cited: list[int] = []
        missing = []
        for operand in calc.operands:
            found = self.read(operand, chunks)
            if found is None:
                missing.append(operand.label)
                continue
            n, (value, printed) = found
            values[operand.name] = value
            parts.append(insert_marker(f"{operand.label} = {printed}", n))
            cited.append(n)
        if missing and calc.verdict:  # a verdict that cannot be computed: answered as ``extract`` answers it
            return super().respond(question, chunks, traces, stage, notes, on_token, focus)
        if missing:
            text = f"{NO_ANSWER} (no value found for {', '.join(missing)})"
        else:
            try:
                text = self.formatted(question, calc, evaluate(calc.expression, values), parts, cited)
            except ExpressionError as e:
                text = f"{NO_ANSWER} ({calc.label} cannot be computed: {e})"
        if on_token:
            on_token(text)
        return text

    def read(self, operand: Operand, chunks: list[Chunk]) -> tuple[int, tuple[float, str]] | None:
        """([n] of the passage the pack reads ``operand`` from (``pick_operand``), (value, as printed)), or None."""
        found = self.pack.pick_operand(operand, [chunk.text for chunk in chunks])
        return None if found is None else (found[0] + 1, (found[1], found[2]))

    def formatted(self, question: str, calc: Calculation, value: float, parts: list[str], cited: list[int]) -> str:
        """The answer: the result as the pack formats it, the markers, the formula in the operands' labels and
        each operand as printed, cited (``parts``)."""
        result = self.pack.format_result(question, calc, value)
        labels = {o.name: o.label for o in calc.operands}
        formula = _NAME.sub(lambda m: labels.get(m[0], m[0]), calc.expression)
        markers = "".join(f"[{n}]" for n in dict.fromkeys(cited))
        label = f"{calc.label[:1].upper()}{calc.label[1:]}"
        if len(calc.operands) == 1 and calc.expression == calc.operands[0].name:  # a value looked up
            return f"{result} {markers}. {label}: {parts[0].split(' = ', 1)[-1]}."
        return f"{result} {markers}. {label} = {formula}, where {'; '.join(parts)}."

    def offered(self, operands: list[Operand], chunks: list[Chunk], limit: int) -> list[Offered]:
        """The ``operands`` the passages hold (the first ``limit``, each cell once), named a, b..."""
        out: list[Offered] = []
        for operand in operands:
            if len(out) == limit:
                break
            found = self.read(operand, chunks)
            if found is not None and all((o.passage, o.printed) != (found[0], found[1][1]) for o in out):
                n, (value, printed) = found  # a cell two operands read (revenue, total revenue) is offered once
                out.append(Offered(letters(len(out) + 1)[-1], operand, value, printed, n))
        return out

    def written(self, question: str, shape: Calculation, operands: list[Operand], chunks: list[Chunk],
                traces: list[StageTrace]) -> str:
        """The answer computed from the expression the writer writes over the ``operands`` the passages hold, in
        the label, unit and precision of ``shape``; refused when none is held or the expression does not check."""
        writer = self.writer
        if writer is None:
            raise ValueError("extract+compute has no expression writer (answer.expressions.writer)")
        offered = self.offered(operands, chunks, writer.config.max_operands)
        if not offered:
            return f"{NO_ANSWER} (no value found for {', '.join(o.label for o in operands)})"
        reply = self.call(writer.messages(question, offered), traces, "expression", llm=writer.llm,
                          max_tokens=writer.config.max_tokens, temperature=0.0)
        traces[-1].details["wrote"] = reply  # shown by `ask --json`
        try:
            expression, value = check(reply, {o.name: o.value for o in offered})
        except ExpressionError as e:
            return f"{NO_ANSWER} ({shape.label} cannot be computed: {e})"
        used = [o for o in offered if o.name in names(expression)]
        written = Calculation(shape.label, expression, tuple(Operand(o.name, o.operand.label, o.operand.query)
                                                             for o in used), shape.percent, shape.decimals)
        parts = [insert_marker(f"{o.operand.label} = {o.printed}", o.passage) for o in used]
        return self.formatted(question, written, value, parts, [o.passage for o in used])
