"""The value grammar every layer shares: calendar dates, lengths of time and amounts as written in text, read
into comparable values. Sentence selection, the readers of the answer packs and the correctness metric all parse
values here, so what one of them counts as a date the others can read."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

_MONTH_NAMES = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_MONTH = (r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
          r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)(?![a-z])\.?")
# the day may carry an ordinal suffix that CUAD's OCR split ("17t h day of May", "1s t day of June")
_DAY = r"(?P<day>\d{1,2})(?:\s?(?:s\s?t|n\s?d|r\s?d|t\s?h))?"
_NAMED_YEAR = r"(?P<year>\d{4}|'\d{2})(?!\d)"
_DATE_PATTERNS = [
    re.compile(rf"(?<!\d){_DAY}(?:\s+day)?(?:\s+of)?\s+{_MONTH}\s*,?\s*{_NAMED_YEAR}"),  # 17th day of May, 2017
    re.compile(rf"\b{_MONTH}\s+{_DAY}\s*,?\s*{_NAMED_YEAR}"),  # May 17, 2017
    re.compile(r"(?<![\d/-])(?P<month>\d{1,2})[/-](?P<day>\d{1,2})[/-](?P<year>\d{4}|\d{2})(?![\d/-])"),  # 5/17/17
    re.compile(r"(?<![\d/-])(?P<year>\d{4})[/-](?P<month>\d{1,2})[/-](?P<day>\d{1,2})(?![\d/-])"),  # 2017-05-17
]


def _year(text: str) -> int:
    """A year; two-digit years are 1969-2068, as in POSIX strptime ("5/17/17" is 2017, "3/11/99" 1999)."""
    y = int(text.lstrip("'"))
    if len(text.lstrip("'")) > 2:
        return y
    return y + (2000 if y < 69 else 1900)


def date_spans(text: str) -> list[tuple[int, int, dt.date]]:
    """(start, end, date) of every calendar date written in ``text``, in reading order: "5/17/17" (US
    month/day/year), "2017-05-17", "May 17, 2017", "17 May 2017", "17th day of May, 2017" (also with CUAD's OCR
    spacing, "17t h day of May, 2017")."""
    t = text.lower()
    spans = {}
    for pattern in _DATE_PATTERNS:
        for m in pattern.finditer(t):
            month = m["month"]
            month_no = int(month) if month.isdigit() else _MONTH_NAMES.index(month[:3]) + 1
            try:
                spans.setdefault(m.start(), (m.start(), m.end(), dt.date(_year(m["year"]), month_no, int(m["day"]))))
            except ValueError:  # 2/30/2020, 13/1/2020
                continue
    return sorted(spans.values())


def parse_dates(text: str) -> set[dt.date]:
    """Every calendar date in ``text`` (the forms of ``date_spans``)."""
    return {date for _, _, date in date_spans(text)}


_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen".split())}
_NUMBER_WORDS |= {w: 10 * i for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(),
                                                    start=2)}
_NUMBER_WORDS["hundred"] = 100
_WORD = "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
_WORDS = rf"(?:{_WORD})(?:[\s-]+(?:and\s+)?(?:{_WORD}))*"
_DIGITS = r"\d+(?:\.\d+)?"
_DURATION = re.compile(
    rf"\b(?:(?P<digits>{_DIGITS})|(?P<words>{_WORDS})|an?)(?:\s*\(\s*(?P<paren>{_DIGITS}|{_WORDS})\s*\))?"
    r"(?:[\s-]+(?:calendar|business|working|consecutive|successive|additional|full|further|more|initial|renewal))*"
    r"[\s-]+(?P<unit>day|week|month|quarter|year|yr)s?(?:\(s\))?\b")
_FROM_TO = re.compile(r"\b(?P<unit>day|week|month|quarter|year)[\s-]+to[\s-]+(?P=unit)\b")  # "year to year"
_PERPETUAL = re.compile(r"\bperpetu|\bindefinite|\bevergreen\b")
_UNIT = {"day": (1, "days"), "week": (7, "days"), "month": (1, "months"), "quarter": (3, "months"),
         "year": (12, "months"), "yr": (12, "months")}
PERPETUAL = (math.inf, "perpetual")


def _word_value(words: str) -> float:
    """The value of number words: "thirty" 30, "forty-five" 45, "one hundred twenty" 120."""
    total = 0
    for w in re.split(r"[\s-]+", words):
        if w == "hundred":
            total = max(total, 1) * 100
        elif w != "and":
            total += _NUMBER_WORDS[w]
    return float(total)


def parse_durations(text: str) -> set[tuple[float, str]]:
    """Every length of time in ``text`` in days (days, weeks) or months (months, quarters, years): "3 years"
    and "36 months" are both ``(36.0, "months")``, "thirty (30) days" is ``(30.0, "days")``, "from year to
    year" is ``(12.0, "months")``; "perpetual", "in perpetuity", "indefinite" or "evergreen" give
    ``PERPETUAL``. Days and months are not converted into each other ("1 year" is not "365 days")."""
    t = text.lower().replace("\u2011", "-")
    found = {PERPETUAL} if _PERPETUAL.search(t) else set()
    for m in _DURATION.finditer(t):
        paren = m["paren"]
        if m["digits"]:
            n = float(m["digits"])
        elif paren and paren[0].isdigit():
            n = float(paren)
        else:  # number words, or "a"/"an" ("a year")
            n = _word_value(m["words"]) if m["words"] else 1.0
        factor, unit = _UNIT[m["unit"]]
        found.add((n * factor, unit))
    for m in _FROM_TO.finditer(t):
        factor, unit = _UNIT[m["unit"]]
        found.add((float(factor), unit))
    return found


SCALES = {"thousand": 1e3, "k": 1e3, "million": 1e6, "mn": 1e6, "mm": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9,
          "b": 1e9, "trillion": 1e12}
"""Scale words and their factors (plural forms are read as the singular)."""

SCALE_WORD = r"thousands?|millions?|billions?|trillions?|mn|mm|bn|k|m|b"
"""A scale word, as a regex alternation (for the rules that read a scale named apart from a number)."""

# a number: optional sign or opening parenthesis, optional currency, digits with thousands separators
_AMOUNT = re.compile(
    r"(?P<neg>-|\u2212)?(?P<open>\()?\s*(?P<cur>\$|US\$|USD\s?)?\s*(?P<neg2>-|\u2212)?"
    r"(?<![A-Za-z\d.,])(?<![A-Za-z]-)(?P<number>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?![\d,]\d)"
    rf"(?:\s*(?P<scale>{SCALE_WORD})\b)?\s*(?P<pct>%|percent\b|per cent\b)?\s*(?P<close>\))?",
    re.IGNORECASE)


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


def amounts(text: str, scale: float = 1.0, parentheses_negative: bool = True) -> list[Amount]:
    """Every amount in ``text``, in reading order: "$1.2bn" 1.2 with scale 1e9, "12.6%" a percent, "(1,204)"
    -1204 where ``parentheses_negative`` (the accountants' sign; prose such as "thirty (30) days" restates a number
    in parentheses). ``scale`` applies to numbers written without a scale word (a table's "(in millions)")."""
    out = []
    for m in _AMOUNT.finditer(text):
        digits = m["number"]
        wrapped = bool(m["open"] and m["close"])
        negative = bool(m["neg"] or m["neg2"] or (wrapped and parentheses_negative))
        number = float(digits.replace(",", ""))
        decimals = len(digits.split(".")[1]) if "." in digits else 0
        word = m["scale"]
        # "2019 m" would be odd, but a lone "m"/"b"/"k" after a year or inside a word is not a scale
        if word and word.lower() in ("m", "b", "k") and not m["cur"]:
            word = None
        factor = scale_factor(word) if word else (1.0 if m["pct"] else scale)
        start = m.start("open") if wrapped else m.start("number") if not m["cur"] else m.start("cur")
        out.append(Amount(-number if negative else number, factor, bool(m["pct"]), bool(m["cur"]), start, m.end(),
                          decimals))
    return out


def parse_amounts(text: str) -> set[float]:
    """Every number in ``text`` (money, a count or a percent), with thousands separators and scale words read:
    "$1,000,000", "USD 1 million" and "$1m" are all 1e6 (``amounts``, a number in parentheses not negated)."""
    return {a.value for a in amounts(text, parentheses_negative=False)}
