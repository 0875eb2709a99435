"""``extract+compute``: a question that asks for a calculation (the pack's ``calculation``: a ratio, a margin, a
change, an average over periods) is answered by reading each operand from the retrieved passages (the pack's
``operand``), evaluating the expression with the safe evaluator and citing every operand: "0.66 [1][2].
Operating cash flow ratio = cash from operations FY2015 / total current liabilities FY2015, where ...". A
calculation whose operands the passages do not all hold is refused, not guessed (a yes/no verdict the pack
would compute is then answered as ``extract`` answers it, as are other questions). No LLM call."""

from __future__ import annotations

import re

from ragtune.generation.arithmetic import ExpressionError, evaluate
from ragtune.generation.prompts import NO_ANSWER
from ragtune.generation.strategies.base import strategies
from ragtune.generation.strategies.extract import Extract
from ragtune.text import insert_marker


@strategies.register("extract+compute")
class ExtractCompute(Extract):
    """Computes what the pack can read as a calculation; quotes sentences (``extract``) otherwise."""

    def respond(self, question, chunks, traces, stage="generate", notes=None, on_token=None, focus=None) -> str:
        calc = self.pack.calculation(question)
        if calc is None:
            return super().respond(question, chunks, traces, stage, notes, on_token, focus)
        values: dict[str, float] = {}
        parts: list[str] = []
        cited: list[int] = []
        missing = []
        texts = [chunk.text for chunk in chunks]
        for operand in calc.operands:
            found = self.pack.pick_operand(operand, texts)
            if found is None:
                missing.append(operand.label)
                continue
            i, value, printed = found
            n = i + 1
            values[operand.name] = value
            parts.append(insert_marker(f"{operand.label} = {printed}", n))
            cited.append(n)
        if missing and calc.verdict:  # a verdict that cannot be computed: answered as ``extract`` answers it
            return super().respond(question, chunks, traces, stage, notes, on_token, focus)
        if missing:
            text = f"{NO_ANSWER} (no value found for {', '.join(missing)})"
        else:
            try:
                result = self.pack.format_result(question, calc, evaluate(calc.expression, values))
            except ExpressionError as e:
                text = f"{NO_ANSWER} ({calc.label} cannot be computed: {e})"
            else:
                formula = calc.expression
                for operand in calc.operands:
                    formula = re.sub(rf"\b{operand.name}\b", operand.label, formula)
                markers = "".join(f"[{n}]" for n in dict.fromkeys(cited))
                label = f"{calc.label[:1].upper()}{calc.label[1:]}"
                if len(calc.operands) == 1 and calc.expression == calc.operands[0].name:  # a value looked up
                    text = f"{result} {markers}. {label}: {parts[0].split(' = ', 1)[-1]}."
                else:
                    text = f"{result} {markers}. {label} = {formula}, where {'; '.join(parts)}."
        if on_token:
            on_token(text)
        return text
