"""Table rows as the loaders write them ("<table title> | <row label> | <column header>: <cell> | ..."), and a
question's line item and period matched to a row and column: "What is the FY2019 capital expenditure amount (in
USD millions) for 3M?" reads the 2019 column of "Purchases of property, plant and equipment (PP&E)"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ragtune.packs.finance.amounts import Amount, asked_scale, format_number, parse_cell, table_scale
from ragtune.packs.finance.line_items import LineItem, asked_items, normalize_label
from ragtune.packs.finance.periods import Period, header_period, matches, question_periods

SEPARATOR = " | "
_CELL = re.compile(r"^(?P<header>[^:]{1,200}):\s(?P<value>.*)$")
_STOP = frozenset("the a an of and or for in on to by what is was were how much many did does company its total "
                  "amount year end fy fiscal usd millions billions thousands answer base using only information "
                  "statement provided primarily within shown details question following".split())
_DOLLARS = re.compile(r"\busd\b|\$|\bdollars?\b", re.IGNORECASE)
SCALE_WORDS = {1e3: " thousand", 1e6: " million", 1e9: " billion", 1e12: " trillion"}
MIN_MATCH = 0.5
"""A row is read only when its label matches the question's line item at least this well (0..1)."""
QUALIFIERS = frozenset("average unearned deferred accumulated change changes increase decrease other received".split())
"""Label words that make a row another quantity than the line item they qualify ("Unearned revenue" is no
revenue, "Average accounts payable" no year-end balance, "Accumulated depreciation" no year's depreciation)."""
QUALIFIER_PENALTY = 0.3
"""Taken from a label's match for each ``QUALIFIERS`` word it holds that the line item's phrase does not."""


@dataclass(frozen=True)
class TableRow:
    """One row line: the table's ``title`` ('' when not printed), the row ``label`` and its (header, cell)
    ``cells``; ``scale`` is the title's scale note (1 when none)."""

    title: str
    label: str
    cells: tuple[tuple[str, str], ...]

    @property
    def scale(self) -> float:
        return table_scale(self.title)

    def column(self, period: Period) -> tuple[str, str] | None:
        """The (header, cell) of the first column reporting ``period``."""
        for header, cell in self.cells:
            if (p := header_period(header)) and matches(period, p):
                return header, cell
        return None


def parse_row(line: str) -> TableRow | None:
    """A row line as a ``TableRow``; None when ``line`` is not one (no " | " part of the form "header: cell")."""
    parts = [p.strip() for p in line.strip().split(SEPARATOR)]
    first = next((i for i, p in enumerate(parts) if i > 0 and _CELL.match(p)), None)
    if first is None:
        return None
    cells = tuple((m["header"].strip(), m["value"].strip()) for p in parts[first:] if (m := _CELL.match(p)))
    label = parts[first - 1]
    title = SEPARATOR.join(parts[: first - 1])
    return TableRow(title, label, cells)


def rows_in(text: str) -> list[TableRow]:
    """The table rows among the lines of ``text``."""
    return list(_rows_in(text))


@lru_cache(maxsize=4096)
def _rows_in(text: str) -> tuple[TableRow, ...]:
    return tuple(row for line in text.splitlines() if (row := parse_row(line)))


def _words(text: str) -> set[str]:
    return {w for w in normalize_label(text).split() if w not in _STOP and len(w) > 1}


def _phrase_match(label: str, phrase: str) -> float:
    """How well a row label matches a line-item phrase: the share of the phrase's words in the label, less a
    little for extra label words (so "Total current assets" beats "Other current assets" for "total current
    assets") and ``QUALIFIER_PENALTY`` for each qualifier the phrase lacks ("Unearned revenue")."""
    lw, pw = normalize_label(label).split(), phrase.split()
    if not lw or not pw:
        return 0.0
    common = sum(1 for w in pw if w in lw)
    recall = common / len(pw)
    if normalize_label(label) == phrase:
        return 1.0
    qualified = len({w for w in lw if w in QUALIFIERS} - set(pw))
    return (recall * (0.9 if " ".join(pw) in " ".join(lw) else 0.8) - 0.02 * max(0, len(lw) - len(pw))
            - QUALIFIER_PENALTY * qualified)


def item_match(label: str, item: LineItem) -> float:
    """How well ``label`` matches one of the labels ``item`` is printed under (0..1)."""
    return max(_phrase_match(label, p) for p in item.labels)


def label_match(question: str, label: str, items: list[LineItem] | None = None) -> float:
    """How well ``label`` matches the line item ``question`` asks for (0..1): by the named line items' printed
    labels (``LINE_ITEMS``) when the question names one, else by the share of the question's content words in
    the label."""
    items = asked_items(question) if items is None else items
    if items:
        return item_match(label, items[0])
    q, lab = _words(question), _words(label)
    return len(q & lab) / len(lab) if lab and q & lab else 0.0


@dataclass(frozen=True)
class Reading:
    """A value read from a row: the row, the column header, the amount as printed (with the table's scale), the
    score of the label match and the answer text in the unit the question asks for."""

    row: TableRow
    header: str
    amount: Amount
    score: float
    text: str


def answer_text(question: str, amount: Amount, item: LineItem | None) -> str:
    """``amount`` in the unit the question asks for: "$1,699 million" for "(in USD millions)" (an outflow line
    item, printed in parentheses, as a positive amount); as printed, with its scale word, otherwise."""
    value = amount.value
    if item and item.outflow:
        value = abs(value)
    if amount.percent:
        return f"{format_number(value, amount.decimals)}%"
    asked = asked_scale(question)
    unit = asked or amount.scale
    number = value / unit
    decimals = amount.decimals if unit == amount.scale else 0 if float(number).is_integer() else 2
    dollar = "$" if amount.currency or _DOLLARS.search(question) else ""
    return f"{'-' if number < 0 else ''}{dollar}{format_number(abs(number), decimals)}{SCALE_WORDS.get(unit, '')}"


def read_rows(question: str, rows: list[TableRow]) -> list[Reading]:
    """The values of the rows that hold the question's line item, in the column of the (first) period it names,
    best label match first; rows below ``MIN_MATCH`` or without that period's column are left out. A table whose
    title states no scale is read in the unit the question asks for."""
    periods = question_periods(question)
    items = asked_items(question)
    item = items[0] if items else None
    out = []
    for row in rows:
        score = label_match(question, row.label, items)
        if score < MIN_MATCH:
            continue
        scale = row.scale if row.scale > 1 else asked_scale(question) or 1.0
        for period in periods[:1]:
            column = row.column(period)
            if column is None or (amount := parse_cell(column[1], scale)) is None:
                continue
            out.append(Reading(row, column[0], amount, score, answer_text(question, amount, item)))
    return sorted(out, key=lambda r: -r.score)
