"""The finance pack (10-K/10-Q filings, earnings releases): amounts with their scale and unit, fiscal years and
quarters, and a question's line item and period read from a table row's column; yes/no questions about a
metric's trend or a liquidity rule (quick ratio, working capital) computed from the rows (``formulas.judgement``),
else, for a line item going up or down between two periods, by comparing the row's two columns."""

from __future__ import annotations

import re

from pydantic import Field

from ragtune.packs.base import AnswerPack, Calculation, Cell, Operand, PackConfig
from ragtune.packs.finance import formulas
from ragtune.packs.finance.amounts import parse_cell
from ragtune.packs.finance.formulas import DOWN, UP
from ragtune.packs.finance.line_items import LINE_ITEMS, asked_items
from ragtune.packs.finance.periods import Period, question_periods
from ragtune.packs.finance.tables import item_match, label_match, parse_row, read_rows
from ragtune.packs.registry import packs
from ragtune.values import Amount, amounts

LINE_ITEM = "line_item"
"""Form: the value of a named line item for a period (read from a table row's column)."""
AMOUNT = "amount"
"""Form: a quantity the question asks for, read from prose ("$2,018mn", "12.6%")."""
CHANGE = "change"
"""Form: did a line item go up or down between two periods (Yes/No from a row's two columns)."""

_QUANTITY = re.compile(r"\bhow (?:much|many)\b|\bamount\b|\bratio\b|\bmargin\b|\bvalue\b|\bwhat (?:is|was|were)\b.*"
                       r"\b(?:ebitda|eps|revenue|sales|income|expenditure|cash flow|assets|liabilities|debt|"
                       r"dividends?)\b", re.IGNORECASE)
_YES_NO = re.compile(r"^\s*(?:does|do|did|is|are|was|were|has|have|had)\b", re.IGNORECASE)


class FinanceConfig(PackConfig):
    """Options of the finance pack (``answer.pack_options``)."""

    min_label_match: float = Field(0.5, ge=0, le=1, description="A table row is read only when its label matches "
                                   "the question's line item at least this well (0..1).")


@packs.register("finance")
class FinancePack(AnswerPack):
    """Filings: forms ``line_item`` (a table row's value for the period asked, in the unit asked), ``amount`` (a
    quantity in prose) and ``change`` (Yes/No: did a line item go up between two periods)."""

    Config = FinanceConfig
    config: FinanceConfig
    pipeline = "operand_queries+hybrid+operand_rows"
    strategy = "extract+compute"

    def form(self, question: str) -> str | None:
        """``line_item:<name>`` for a line item of ``LINE_ITEMS`` (``line_item`` for another quantity of a
        period), ``change``, ``amount`` or None."""
        periods = question_periods(question)
        items = asked_items(question)
        if _YES_NO.match(question):
            up_or_down = UP.search(question) or DOWN.search(question)
            return CHANGE if up_or_down and items and len(periods) >= 2 else None
        if periods and items:
            return f"{LINE_ITEM}:{items[0].name}"
        if periods and _QUANTITY.search(question):
            return LINE_ITEM
        return AMOUNT if _QUANTITY.search(question) else None

    def states_form(self, form: str, text: str) -> bool:
        """A table row with an amount (of the named line item, for ``line_item:<name>``), or for ``amount`` a
        sentence stating money, a scale or a percentage."""
        kind, _, name = form.partition(":")
        if kind in (LINE_ITEM, CHANGE):
            row = parse_row(text)
            if row is None or all(parse_cell(cell) is None for _, cell in row.cells):
                return False
            item = next((i for i in LINE_ITEMS if i.name == name), None)
            return item is None or item_match(row.label, item) >= self.config.min_label_match
        return kind == AMOUNT and bool(prose_amounts(text))

    def yes_no(self, question: str) -> bool:
        """A yes/no question other than a ``change`` one (which is read from its row) gets the thresholded
        verdict (``yes_threshold``)."""
        return bool(_YES_NO.match(question)) and self.form(question) != CHANGE

    def read(self, question: str, form: str, text: str) -> list[str]:
        if form == CHANGE:
            return self._change(question, text)
        kind = form.partition(":")[0]
        row = parse_row(text)
        if row is not None:
            if kind != LINE_ITEM:
                return []
            return [r.text for r in read_rows(question, [row]) if r.score >= self.config.min_label_match]
        if kind in (LINE_ITEM, AMOUNT):
            return [text[a.start:a.end].strip() for a in prose_amounts(text)]
        return []

    def _change(self, question: str, text: str) -> list[str]:
        """"Yes"/"No" with the two values, when ``text`` is a row of the line item with both periods' columns."""
        row = parse_row(text)
        periods = question_periods(question)[:2]
        if row is None or label_match(question, row.label) < self.config.min_label_match:
            return []
        values: list[tuple[Period, str, Amount]] = []
        for period in periods:
            column = row.column(period)
            if column is None or (amount := parse_cell(column[1])) is None:
                return []
            values.append((period, column[1], amount))
        (p1, c1, a1), (p2, c2, a2) = sorted(values, key=lambda v: v[0].year)
        went_up = a2.number > a1.number
        asked_up = bool(UP.search(question))
        verdict = "Yes" if went_up == asked_up else "No"
        return [f"{verdict}: {row.label} {c2} in {p2} against {c1} in {p1}"]

    def calculation(self, question: str) -> Calculation | None:
        return formulas.calculation(question)

    def draft_calculation(self, question: str) -> Calculation | None:
        return formulas.draft(question)

    def cells(self, text: str) -> list[Cell]:
        return formulas.cells(text)

    def operand(self, operand: Operand, text: str) -> tuple[float, str] | None:
        return formulas.read_operand(operand, text)

    def pick_operand(self, operand: Operand, texts: list[str]) -> tuple[int, float, str] | None:
        return formulas.pick_operand(operand, texts)

    def format_result(self, question: str, calculation: Calculation, value: float) -> str:
        return formulas.format_result(question, calculation, value)


def prose_amounts(text: str) -> list[Amount]:
    """The amounts of a prose sentence that are money, a scale or a percentage (bare years and counts left out),
    as written."""
    return [a for a in amounts(text) if not a.is_year and (a.currency or a.percent or a.scale > 1)]


__all__ = ["AMOUNT", "CHANGE", "LINE_ITEM", "FinanceConfig", "FinancePack"]
