"""finance_check: a deterministic check of an answer to a question about a filing (FinanceBench's kind), so
numbers and verdicts are scored without an LLM judge. Explanations are not checked here: score them by
``token_f1`` and ``rouge_l``, reported apart.

- **yes/no** (the reference opens with "Yes" or "No"): the answer's leading verdict must be the same; a refusal
  or an answer without a leading verdict is wrong.
- **numbers** (the reference is a bare number, or states one and the question asks for a quantity): the first
  amount the answer states (bare years such as "2019" skipped) must equal one the reference states, within
  ``TOLERANCE`` of it or equal at the reference's precision (gold "0.66": 0.6612 is right; trailing zeros are
  not precision: gold "$0.40" is 0.4, so 0.39 billion is right). Scale and unit are
  understood: a number without a scale word is in the unit the question asks for ("in USD millions"), so
  "$1,577.00" is "1577 million" and "$1.577 billion"; a percentage is also right written as a fraction or a
  bare number ("12.6%" = "0.126" = "12.6"); the sign is not compared (filings print outflows in parentheses,
  and the gold states a capital expenditure as a positive amount). "flat", "unchanged" in a reference are 0.
- anything else: not scored (None)."""

from __future__ import annotations

import re
from typing import Any

from ragtune.evaluation.metrics.base import Metric, Sample, metrics
from ragtune.packs.finance.amounts import asked_scale
from ragtune.values import Amount, amounts

TOLERANCE = 0.01
"""Relative difference within which two amounts are the same."""

_VERDICT = re.compile(r"^\W*(yes|no)\b", re.IGNORECASE)
_ZERO = re.compile(r"\b(?:flat|unchanged|zero|nil)\b", re.IGNORECASE)
_QUANTITY = re.compile(r"\bhow (?:much|many)\b|\bamount\b|\bratio\b|\bmargin\b|\b(?:what|how) (?:is|was) .*?"
                       r"\b(?:ebitda|eps|revenue|income|expenditure|cash flow|assets|liabilities)\b", re.IGNORECASE)
_BARE_NUMBER = re.compile(r"^\W*-?\$?-?[\d,]*\.?\d+\s*%?\W*$")


def verdict(text: str) -> bool | None:
    """True for a leading "Yes", False for a leading "No", else None."""
    m = _VERDICT.match(text)
    return None if m is None else m.group(1).lower() == "yes"


def kind(question: str, reference: str) -> str:
    """What ``reference`` is checked as: "yes_no", "number" or "explanation"."""
    if verdict(reference) is not None:
        return "yes_no"
    if _BARE_NUMBER.match(reference) or (_QUANTITY.search(question) and (values(reference) or _ZERO.search(
            reference))):
        return "number"
    return "explanation"


def values(text: str) -> list[Amount]:
    """The amounts ``text`` states, bare years left out."""
    return [a for a in amounts(text) if not a.is_year]


def _in_units(a: Amount, unit: float | None) -> float:
    """|a| in units, a number without a scale word being in the ``unit`` asked for."""
    return abs(a.number) * (unit if a.scale == 1 and unit and not a.percent else a.scale)


def _close(x: float, ref: float, decimals: int, ref_scale: float) -> bool:
    if abs(x - ref) <= TOLERANCE * abs(ref) + 1e-12:
        return True
    return round(x / ref_scale, decimals) == round(ref / ref_scale, decimals)


def precision(a: Amount) -> int:
    """The decimals ``a`` is stated to: trailing zeros do not count (FinanceBench writes every amount with two
    decimals, "$0.40" for 0.4 and "$11588.00" for 11,588)."""
    return len(f"{abs(a.number):.{a.decimals}f}".split(".")[1].rstrip("0")) if a.decimals else 0


def same_amount(answer: Amount, reference: Amount, unit: float | None) -> bool:
    """Whether ``answer`` states ``reference`` (see the module docstring for the rules)."""
    if reference.percent or answer.percent:
        ref = abs(reference.number)
        got = abs(answer.number)
        ref_forms = [ref] if reference.percent else [ref, ref * 100]
        got_forms = [got] if answer.percent else [got, got * 100]
        return any(_close(g, r, precision(reference), 1.0) for g in got_forms for r in ref_forms)
    ref_unit = reference.scale if reference.scale > 1 else unit or 1.0
    return _close(_in_units(answer, unit), _in_units(reference, unit), precision(reference), ref_unit)


def check(question: str, answer: str, reference: str) -> tuple[bool | None, dict[str, Any]]:
    """Whether ``answer`` ('' for a refusal) is right against ``reference`` for ``question``: True or False for
    yes/no and number references, None for explanations; with what was compared."""
    form = kind(question, reference)
    details: dict[str, Any] = {"kind": form}
    if form == "yes_no":
        expected, got = verdict(reference), verdict(answer)
        return got == expected, {**details, "reference": expected, "answer": got}
    if form == "explanation":
        return None, details
    refs = values(reference) or [Amount(0.0)]
    got_values = values(answer) or ([Amount(0.0)] if _ZERO.search(answer) else [])
    unit = asked_scale(question)
    details["reference"] = [r.value for r in refs]
    if not got_values:
        return False, {**details, "answer": None}
    first = got_values[0]
    details["answer"] = first.value
    return any(same_amount(first, r, unit) for r in refs), details


@metrics.register("finance_check")
class FinanceCheck(Metric):
    """``check`` as a score, 1 or 0 (None for explanations), with what was compared in
    ``sample.notes["finance_check"]``."""

    description = "deterministic check of a filing answer: numbers with scale and unit, yes/no by the verdict"

    def score(self, sample: Sample) -> float | None:
        ok, details = check(sample.question, sample.plain_answer, sample.reference)
        sample.notes["finance_check"] = details
        return None if ok is None else float(ok)
