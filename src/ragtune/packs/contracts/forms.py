"""The kind of value a contract question asks for, from the question alone (CUAD's categories): a yes/no
verdict, a date, the parties, a duration (terms, periods, notice), an amount, a place (a governing law's state or
country) or the document's title; None for anything else (the answer quotes the clause)."""

from __future__ import annotations

import re

from ragtune.text import YES_NO_QUESTION

YES_NO = "yes_no"
DATE = "date"
PARTIES = "parties"
DURATION = "duration"
AMOUNT = "amount"
PLACE = "place"
TITLE = "title"
FORMS = (YES_NO, DATE, PARTIES, DURATION, AMOUNT, PLACE, TITLE)

# detect_form: the first rule that matches the lower-cased question wins.
_FORM_RULES: list[tuple[str, re.Pattern[str]]] = [
    (YES_NO, YES_NO_QUESTION),
    (DURATION, re.compile(r"\bhow long\b|\bhow (?:much|many)\s+(?:time|notice|days|weeks|months|years)\b"
                          r"|\bnumber of (?:days|weeks|months|years)\b")),
    (DATE, re.compile(r"\bwhen\b|\bdate\b|\b(?:what|which) (?:day|year)\b")),
    (TITLE, re.compile(r"\b(?:name|title) of (?:the|this) (?:contract|agreement|document)\b"
                       r"|\bwhat is (?:the|this) (?:contract|agreement|document) called\b")),
    (PLACE, re.compile(r"\b(?:which|what) (?:state|country|province|jurisdiction)|\bgoverning law\b"
                       r"|\blaws? governs?\b|\bgoverned by\b|\bjurisdiction\b|\bvenue\b")),
    (PARTIES, re.compile(r"\bpart(?:y|ies)\b|\bwho(?:m|se)?\b|\bsignator")),
    (DURATION, re.compile(r"\bterm\b|\bperiods?\b|\bduration\b|\bnotice\b")),
    (AMOUNT, re.compile(r"\bhow (?:much|many)\b|\bamount\b|\bfees?\b|\bprices?\b|\bcosts?\b|\bcap\b"
                        r"|\bpayments?\b|\broyalt")),
]


def normal(question: str) -> str:
    """The question lower-cased, its white space collapsed (what the rules match)."""
    return " ".join(question.lower().split())


def detect_form(question: str) -> str | None:
    """The form of the answer ``question`` asks for, by keyword rules on the question text; None: a clause."""
    q = normal(question)
    return next((form for form, rule in _FORM_RULES if rule.search(q)), None)
