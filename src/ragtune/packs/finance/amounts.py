"""Amounts as filings print them, read by the shared value grammar (``ragtune.values.amounts``: sign, scale word,
"$", "%"), plus what filings add: a dash cell is zero, a table's note sets the scale ("(In thousands, except per
share data)"), and a question names the unit it wants ("in USD millions", "in units of percents")."""

from __future__ import annotations

import re

from ragtune.values import SCALE_WORD, Amount, amounts, scale_factor

DASHES = "—–-"
"""A cell holding only a dash (em, en or hyphen) prints zero / none."""

_TABLE_SCALE = re.compile(rf"\b(?:in|amounts in|dollars in|\$ in|usd in)\s+(?P<scale>{SCALE_WORD})\b"
                          rf"|\(\s*(?:\$|usd|dollars)?\s*(?P<bare>thousands|millions|billions)\s*[,)]", re.IGNORECASE)
_ASKED = re.compile(rf"\b(?:in|of)\s+(?:usd|us\$|\$|u\.s\. dollars|dollars)?\s*(?P<scale>{SCALE_WORD})\b"
                    rf"|\b(?:usd|\$)\s*(?P<scale2>{SCALE_WORD})\b", re.IGNORECASE)
_ASKED_PERCENT = re.compile(r"\bin (?:units of )?percent(?:s|age)?\b|\bas a (?:%|percent)|\(%\)"
                            r"|\bpercentage points?\b", re.IGNORECASE)


def parse_cell(cell: str, scale: float = 1.0) -> Amount | None:
    """The amount a table cell prints ("$ (1,699)", "12.6 %", "—" as zero); None when it holds no number."""
    text = cell.strip()
    if text and all(c in DASHES + " $" for c in text) and any(c in DASHES for c in text):
        return Amount(0.0, scale)
    found = amounts(text, scale)
    return found[0] if found else None


def table_scale(title: str) -> float:
    """The scale a table's title or note states: "(in millions)", "($ in billions)", "(In thousands, except per
    share data)", "(Millions)", "Dollars in millions"; 1 when none."""
    m = _TABLE_SCALE.search(title)
    return scale_factor(m["scale"] or m["bare"]) if m else 1.0


def asked_scale(question: str) -> float | None:
    """The scale a question asks its answer in ("in USD millions" 1e6, "(in USD billions)" 1e9); None when it
    names none."""
    m = _ASKED.search(question)
    if not m:
        return None
    word = m["scale"] or m["scale2"]
    return None if word.lower() in ("m", "b", "k") else scale_factor(word)


def asks_percent(question: str) -> bool:
    """Whether a question asks for a percentage ("in units of percents", "as a %", "percentage points")."""
    return bool(_ASKED_PERCENT.search(question))


def format_number(value: float, decimals: int = 0) -> str:
    """``value`` with thousands separators and ``decimals`` decimals ("1,699", "4.60")."""
    return f"{value:,.{decimals}f}"
