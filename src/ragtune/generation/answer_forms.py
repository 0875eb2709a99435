"""The form an answer takes (yes/no, a date, parties, a duration, an amount, a place or a clause), detected
from the question alone, and normalisers that read those values from free text. They post-process a small
model's short answer and score answers without an LLM (``ragtune.evaluation.metrics.correctness``)."""

from __future__ import annotations

import datetime as dt
import math
import re
from enum import Enum

from ragtune.text import YES_NO_QUESTION


class AnswerForm(str, Enum):
    """What a question asks for. ``duration`` covers terms, periods and notice periods; ``amount`` money
    and other numbers; ``place`` a governing law's state or country; ``title`` the document's name; ``clause``
    anything else (the answer quotes the clause). Members are named by their values (``AnswerForm.yes_no``)."""

    yes_no = "yes_no"
    date = "date"
    parties = "parties"
    duration = "duration"
    amount = "amount"
    place = "place"
    title = "title"
    clause = "clause"


# detect_form: the first rule that matches the lower-cased question wins.
_FORM_RULES: list[tuple[AnswerForm, re.Pattern[str]]] = [
    (AnswerForm.yes_no, YES_NO_QUESTION),
    (AnswerForm.duration, re.compile(r"\bhow long\b|\bhow (?:much|many)\s+(?:time|notice|days|weeks|months|years)\b"
                                     r"|\bnumber of (?:days|weeks|months|years)\b")),
    (AnswerForm.date, re.compile(r"\bwhen\b|\bdate\b|\b(?:what|which) (?:day|year)\b")),
    (AnswerForm.title, re.compile(r"\b(?:name|title) of (?:the|this) (?:contract|agreement|document)\b"
                                  r"|\bwhat is (?:the|this) (?:contract|agreement|document) called\b")),
    (AnswerForm.place, re.compile(r"\b(?:which|what) (?:state|country|province|jurisdiction)|\bgoverning law\b"
                                  r"|\blaws? governs?\b|\bgoverned by\b|\bjurisdiction\b|\bvenue\b")),
    (AnswerForm.parties, re.compile(r"\bpart(?:y|ies)\b|\bwho(?:m|se)?\b|\bsignator")),
    (AnswerForm.duration, re.compile(r"\bterm\b|\bperiods?\b|\bduration\b|\bnotice\b")),
    (AnswerForm.amount, re.compile(r"\bhow (?:much|many)\b|\bamount\b|\bfees?\b|\bprices?\b|\bcosts?\b|\bcap\b"
                                   r"|\bpayments?\b|\broyalt")),
]


def detect_form(question: str) -> AnswerForm:
    """The form of the answer ``question`` asks for, by keyword rules on the question text."""
    q = " ".join(question.lower().split())
    return next((form for form, rule in _FORM_RULES if rule.search(q)), AnswerForm.clause)


_YES = re.compile(r"^(?:yes|yeah|yep|correct|true|affirmative)\b")
_NO = re.compile(r"^(?:no|nope|not|none|false|negative)\b")
_SUBJECT = r"(?:the\s+)?(?:contract|agreement|document|documents|context|passages?|text|it|they)"
_NEGATED = re.compile(
    rf"\b{_SUBJECT}\s+(?:does|do|did|is|are|has|have)\s*(?:not\b|n't)|\bthere\s+(?:is|are|was|were)\s+no\b"
    r"|\bthere\s+(?:isn't|aren't)\b|\bno\s+(?:such\s+)?(?:clause|provision|mention|information|requirement|"
    r"restriction|right|obligation|language|section)s?\b|\bnot\s+(?:specified|mentioned|stated|found|provided|"
    r"addressed|included|contained|covered)\b|\bnone\b")
_AFFIRMED = re.compile(rf"\b{_SUBJECT}\s+(?:contains|includes|provides|has|grants|requires|specifies|states|"
                       r"allows|permits|restricts|prohibits|limits)\b|\bthere\s+(?:is|are)\s+(?:a|an|one|some)\b")


def parse_yes_no(text: str) -> bool | None:
    """True or False from a leading yes/no ("Yes, ...", "No.") or, failing that, from the first sentence
    saying the contract does or does not contain something ("The agreement does not contain ..." is False,
    "There is a ..." True); None when the text says neither."""
    t = re.sub(r"^[\W_]+", "", text.strip().lower().replace("’", "'"))
    if _YES.match(t):
        return True
    if _NO.match(t):
        return False
    first = re.split(r"(?<=[.!?])\s", t, maxsplit=1)[0]
    if _NEGATED.search(first):
        return False
    return True if _AFFIRMED.search(first) else None


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


_SCALES = {"thousand": 1e3, "k": 1e3, "million": 1e6, "mm": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9}
_AMOUNT = re.compile(r"(?<![\d.,])(?P<number>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![\d,]\d)"
                     r"(?:\s*(?P<scale>thousand|million|billion|mm|bn|k|m)\b)?", re.IGNORECASE)


def parse_amounts(text: str) -> set[float]:
    """Every number in ``text`` (money or a count), with thousands separators and scale words read:
    "$1,000,000", "USD 1 million" and "$1m" are all 1e6."""
    return {float(m["number"].replace(",", "")) * _SCALES.get((m["scale"] or "").lower(), 1)
            for m in _AMOUNT.finditer(text)}


_DEFINED_TERMS = re.compile(r"\([^()]*\)|\"[^\"\n]{0,60}\"")
_NAME_SEPARATORS = re.compile(r"[;,\n]|\band\b", re.IGNORECASE)
_NAME_STOP_WORDS = frozenset(
    # corporate suffixes
    "inc incorporated llc ltd limited corp corporation co company plc gmbh ag sa sas srl spa bv nv lp llp pty "
    "pte kk com "
    # articles, prepositions and defined-term wording
    "the an of and or for on by in to as at with dba behalf party parties individually collectively each "
    "together referred hereinafter "
    # governing-law wording ("the laws of the State of New York")
    "law laws state province commonwealth federal substantive internal governed governing construed "
    "accordance applicable therein thereof".split())


def _without_defined_terms(text: str) -> str:
    return _DEFINED_TERMS.sub(" ", text.replace("\u201c", '"').replace("\u201d", '"'))


def name_tokens(text: str) -> set[str]:
    """The content tokens of party or place names, lower-cased, without defined terms in parentheses or
    quotes, corporate suffixes (Inc, LLC, Ltd, Corp ...), governing-law wording and one-letter tokens:
    'SMART RX SYSTEMS, INC. ("Company")' gives {"smart", "rx", "systems"}."""
    words = re.findall(r"[a-z0-9]+", _without_defined_terms(text).lower())
    return {w for w in words if len(w) > 1 and w not in _NAME_STOP_WORDS}


def name_groups(text: str) -> list[set[str]]:
    """The ``name_tokens`` of each name in a list of names separated by ';', ',', 'and' or new lines
    (the parties of a contract, or "British Columbia, Canada"); names without tokens are left out."""
    groups: list[set[str]] = []
    for part in _NAME_SEPARATORS.split(_without_defined_terms(text)):
        tokens = name_tokens(part)
        if tokens and tokens not in groups:
            groups.append(tokens)
    return groups
