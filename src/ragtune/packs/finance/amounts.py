"""Amounts as filings print them: a number with its sign ("(1,204)" is negative, "—" is zero), its scale (a
word after it, "1,204 million", "$1.2bn", or the table's note, "(In thousands, except per share data)") and its
unit ("$", "%"); and the unit a question asks for ("in USD millions", "in units of percents")."""

from __future__ import annotations

import re
from dataclasses import dataclass

SCALES = {"thousand": 1e3, "k": 1e3, "million": 1e6, "mn": 1e6, "mm": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9,
          "b": 1e9, "trillion": 1e12}
"""Scale words and their factors (plural forms are read as the singular)."""

DASHES = "—–-"
"""A cell holding only a dash (em, en or hyphen) prints zero / none."""

_SCALE_WORD = r"thousands?|millions?|billions?|trillions?|mn|mm|bn|k|m|b"
# a number: optional sign or opening parenthesis, optional currency, digits with thousands separators
_AMOUNT = re.compile(
    r"(?P<neg>-|\u2212)?(?P<open>\()?\s*(?P<cur>\$|US\$|USD\s?)?\s*(?P<neg2>-|\u2212)?"
    r"(?<![A-Za-z\d.,])(?<![A-Za-z]-)(?P<number>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?![\d,]\d)"
    rf"(?:\s*(?P<scale>{_SCALE_WORD})\b)?\s*(?P<pct>%|percent\b|per cent\b)?\s*(?P<close>\))?",
    re.IGNORECASE)
_TABLE_SCALE = re.compile(rf"\b(?:in|amounts in|dollars in|\$ in|usd in)\s+(?P<scale>{_SCALE_WORD})\b"
                          rf"|\(\s*(?:\$|usd|dollars)?\s*(?P<bare>thousands|millions|billions)\s*[,)]", re.IGNORECASE)
_ASKED = re.compile(rf"\b(?:in|of)\s+(?:usd|us\$|\$|u\.s\. dollars|dollars)?\s*(?P<scale>{_SCALE_WORD})\b"
                    rf"|\b(?:usd|\$)\s*(?P<scale2>{_SCALE_WORD})\b", re.IGNORECASE)
_ASKED_PERCENT = re.compile(r"\bin (?:units of )?percent(?:s|age)?\b|\bas a (?:%|percent)|\(%\)"
                            r"|\bpercentage points?\b", re.IGNORECASE)


def scale_factor(word: str | None) -> float:
    """The factor of a scale word ("millions" 1e6, "bn" 1e9); 1 for None."""
    if not word:
        return 1.0
    w = word.lower()
    return SCALES.get(w, SCALES.get(w.rstrip("s"), 1.0))


@dataclass(frozen=True)
class Amount:
    """A number as printed: ``number`` with its sign, ``scale`` (1e6 for "million"; 1 when none is written),
    ``percent`` for "%", ``currency`` when "$"/"USD" is written, and where it is (``start``:``end``)."""

    number: float
    scale: float = 1.0
    percent: bool = False
    currency: bool = False
    start: int = 0
    end: int = 0
    decimals: int = 0

    @property
    def value(self) -> float:
        """The number with its scale applied (1,204 million is 1.204e9)."""
        return self.number * self.scale

    @property
    def is_year(self) -> bool:
        """A bare four-digit year (2019, no "$", scale, "%", separator or decimals)."""
        return (not self.currency and not self.percent and self.scale == 1 and self.decimals == 0
                and self.number.is_integer() and 1900 <= self.number <= 2099)


def amounts(text: str, scale: float = 1.0) -> list[Amount]:
    """Every amount in ``text``, in reading order: "(1,204)" is -1204, "$1.2bn" 1.2 with scale 1e9, "12.6%" a
    percent. ``scale`` applies to numbers written without a scale word (a table's "(in millions)")."""
    out = []
    for m in _AMOUNT.finditer(text):
        digits = m["number"]
        negative = bool(m["neg"] or m["neg2"] or (m["open"] and m["close"]))
        number = float(digits.replace(",", ""))
        decimals = len(digits.split(".")[1]) if "." in digits else 0
        word = m["scale"]
        # "2019 m" would be odd, but a lone "m"/"b"/"k" after a year or inside a word is not a scale
        if word and word.lower() in ("m", "b", "k") and not m["cur"]:
            word = None
        factor = scale_factor(word) if word else (1.0 if m["pct"] else scale)
        start = m.start("open") if m["open"] and m["close"] else m.start("number") if not m["cur"] else m.start("cur")
        out.append(Amount(-number if negative else number, factor, bool(m["pct"]), bool(m["cur"]), start, m.end(),
                          decimals))
    return out


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
