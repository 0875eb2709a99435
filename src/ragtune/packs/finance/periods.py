"""Fiscal periods as questions and table headers write them: "FY2019", "FY 2019", "FY19", "fiscal 2019",
"2019", "Q2 2023", "Q2 of FY2023", "2023 Q1", "FY2023Q1", "Q2'2023", "three months ended June 30, 2023",
"Year Ended December 31, 2022", "November 27, 2015"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_MONTH = (r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
          r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_SPAN_WORDS = {"three": 3, "3": 3, "six": 6, "6": 6, "nine": 9, "9": 9, "twelve": 12, "12": 12}
_ENDED = re.compile(rf"\b(?P<months>three|six|nine|twelve|3|6|9|12)[\s-]+months?\s+(?:period\s+)?end(?:ed|ing)\s+"
                    rf"{_MONTH}\s+\d{{1,2}},?\s+(?P<year>(?:19|20)\d\d)\b", re.IGNORECASE)
_QUARTER = re.compile(r"\bQ(?P<q>[1-4])\s*(?:of\s+)?(?:FY|fiscal(?:\s+year)?)?\s*['’]?\s*(?P<year>(?:19|20)?\d\d)\b"
                      r"|\b(?:FY\s*)?(?P<year2>(?:19|20)\d\d)\s*Q(?P<q2>[1-4])\b"
                      r"|\b(?P<ordinal>first|second|third|fourth)\s+quarter\s+(?:of\s+)?(?:fiscal\s+)?(?:year\s+)?"
                      r"(?P<year3>(?:19|20)\d\d)\b", re.IGNORECASE)
_HALF = re.compile(r"\bH(?P<h>[12])\s*(?:of\s+)?(?:FY|fiscal)?\s*(?P<year>(?:19|20)\d\d)\b", re.IGNORECASE)
_FISCAL = re.compile(r"\b(?:FY|fiscal(?:\s+year)?)\s*['’]?\s*(?P<year>(?:19|20)?\d\d)\b", re.IGNORECASE)
_JAMMED_YEAR = re.compile(r"(?<![\d,])(\d{1,2}),((?:19|20)\d\d)(?!\d)")  # no thousands group has 4 digits
_YEAR = re.compile(r"(?<![\d,.$])(?P<year>(?:19|20)\d\d)(?![\d,.%])")
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4}


def _year(text: str) -> int:
    y = int(text)
    return y if y > 99 else 2000 + y


@dataclass(frozen=True)
class Period:
    """A fiscal ``year``, and a ``quarter`` (1-4) when the period is a quarter, ``months`` its length (12 for a
    year, 6 for a half)."""

    year: int
    quarter: int | None = None
    months: int = 12

    def __str__(self) -> str:
        if self.quarter:
            return f"Q{self.quarter} {self.year}"
        return f"FY{self.year}" if self.months == 12 else f"{self.months} months {self.year}"


def _quarter_of(month: str) -> int:
    return (_MONTHS.index(month[:3].lower()) // 3) + 1


def question_periods(question: str) -> list[Period]:
    """The periods a question names, in order, without repeats (see ``_question_periods``)."""
    return list(_question_periods(question))


@lru_cache(maxsize=4096)
def _question_periods(question: str) -> tuple[Period, ...]:
    """The periods a question names, in order, without repeats: "FY2019" and "fiscal 2019" are FY2019, "Q2 of
    FY2023" and "three months ended June 30, 2023" are Q2 2023 (calendar quarters, as 10-Q headers state them),
    a bare "2019" is FY2019 when the question names no fiscal year."""
    found: list[tuple[int, Period]] = []
    taken: list[tuple[int, int]] = []

    def add(m: re.Match, period: Period) -> None:
        if not any(s < m.end() and m.start() < e for s, e in taken):
            taken.append((m.start(), m.end()))
            found.append((m.start(), period))

    for m in _ENDED.finditer(question):
        months = _SPAN_WORDS[m["months"].lower()]
        add(m, Period(int(m["year"]), _quarter_of(m["month"]) if months == 3 else None, months))
    for m in _QUARTER.finditer(question):
        if m["q"]:
            add(m, Period(_year(m["year"]), int(m["q"]), 3))
        elif m["q2"]:
            add(m, Period(int(m["year2"]), int(m["q2"]), 3))
        else:
            add(m, Period(int(m["year3"]), _ORDINALS[m["ordinal"].lower()], 3))
    for m in _HALF.finditer(question):
        add(m, Period(int(m["year"]), None, 6))
    for m in _FISCAL.finditer(question):
        add(m, Period(_year(m["year"])))
    for m in _YEAR.finditer(question):
        add(m, Period(int(m["year"])))
    return tuple(dict.fromkeys(p for _, p in sorted(found, key=lambda f: f[0])))


def header_period(header: str) -> Period | None:
    """The period a column header names: "2019", "Fiscal 2019", "Year Ended December 31, 2022", "May 31, 2019"
    (a year-end), "Three Months Ended June 30, 2023" (Q2 2023), "Q1 2021"; None when it names no year (or
    several different years). A comma without its space ("August 29,2021", as PDFs often print it) still reads."""
    periods = question_periods(_JAMMED_YEAR.sub(r"\1, \2", header))
    if not periods:
        return None
    years = {p.year for p in periods}
    return periods[0] if len(years) == 1 else None


def matches(asked: Period, header: Period) -> bool:
    """Whether a column for ``header`` reports the period ``asked``: the same year, and for a quarter the same
    quarter of a three-month column (a year asked matches a year-long or year-end column)."""
    if asked.year != header.year:
        return False
    if asked.quarter:
        return header.quarter == asked.quarter
    return header.quarter is None and header.months in (12, asked.months)
