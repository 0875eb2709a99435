"""answer_check: a deterministic check of an answer against the reference in the form the question asks for
(the contracts pack's forms, ``ragtune.packs.contracts.forms``; values read by ``ragtune.values``), so that
short and extractive answers are scored without an LLM judge:
"Yes, the agreement ..." is right for the reference "Yes", "May 17, 2017" for "5/17/17", "36 months" for
"3 years", and a quote of the reference clause for a clause."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from ragtune.evaluation.metrics.base import Metric, Sample, metrics
from ragtune.evaluation.metrics.text import normalize, rouge_l_recall
from ragtune.generation.answer_forms import parse_yes_no
from ragtune.packs.contracts.forms import AMOUNT, DATE, DURATION, PARTIES, PLACE, YES_NO, detect_form
from ragtune.packs.contracts.names import name_groups, name_tokens
from ragtune.values import parse_amounts, parse_dates, parse_durations

NAME_SHARE = 0.5
"""A reference name (a party, a place) is found when this share of its name tokens is in the answer."""
CLAUSE_RECALL = 0.6
"""A clause answer is right when it contains this share of the reference's tokens, in order (ROUGE-L recall)."""


def _show(value: Any) -> Any:
    """A parsed value as JSON for the notes: dates in ISO format, durations as "36 months"."""
    if isinstance(value, (set, list)):
        return sorted(_show(v) for v in value)
    if isinstance(value, tuple):  # a duration
        return value[1] if math.isinf(value[0]) else f"{value[0]:g} {value[1]}"
    return value.isoformat() if isinstance(value, dt.date) else value


def check_form(question: str, answer: str, reference: str) -> tuple[bool, dict[str, Any]]:
    """Whether ``answer`` (a refusal is '') agrees with ``reference`` in the form ``question`` asks for
    (yes/no when the reference is just "Yes" or "No"), and what was compared:

    - yes_no: the same ``parse_yes_no`` value, a refusal counting as "No";
    - date, duration, amount: a value in common (``parse_dates``, ``parse_durations``, ``parse_amounts``);
    - parties, place: at least half of the reference's names (``name_groups``) found, a name being found
      when ``NAME_SHARE`` of its tokens are among the answer's ``name_tokens``;
    - clause, and any reference that does not parse in its form: ROUGE-L recall >= ``CLAUSE_RECALL``.
    """
    form = YES_NO if normalize(reference) in {"yes", "no"} else detect_form(question) or "clause"
    details: dict[str, Any] = {"form": form}
    if form == YES_NO and (expected := parse_yes_no(reference)) is not None:
        got = parse_yes_no(answer) if answer else False
        return got == expected, {**details, "reference": expected, "answer": got}
    parse = {DATE: parse_dates, DURATION: parse_durations, AMOUNT: parse_amounts}.get(form)
    if parse and (values := parse(reference)):
        got_values = parse(answer)
        return bool(values & got_values), {**details, "reference": _show(values), "answer": _show(got_values)}
    if form in (PARTIES, PLACE) and (names := name_groups(reference)):
        tokens = name_tokens(answer)
        found = [n for n in names if len(n & tokens) >= NAME_SHARE * len(n)]
        return 2 * len(found) >= len(names), {**details, "reference": [_show(n) for n in names],
                                              "found": [_show(n) for n in found]}
    recall = rouge_l_recall(answer, reference)
    return recall >= CLAUSE_RECALL, {**details, "checked_as": "clause", "recall": round(recall, 3)}


@metrics.register("answer_check")
class AnswerCheck(Metric):
    """``check_form`` as a score, 1 or 0, with what was compared in ``sample.notes["answer_check"]``. When
    the sample has a ``label`` (the short answer, e.g. CUAD's "Yes" or "5/17/17", where the reference is the
    clause), the answer is checked against the label, and an answer quoting the reference clause
    (ROUGE-L recall >= ``CLAUSE_RECALL``) is right too. An unanswerable question scores 1 when refused, else
    0; an answerable one without a reference is not scored."""

    description = "deterministic check of the answer's form and content against the reference"

    def score(self, sample: Sample) -> float | None:
        if sample.unanswerable:
            return float(not sample.answered)
        expected = sample.label or sample.reference
        if not normalize(expected):
            return None
        ok, details = check_form(sample.question, sample.plain_answer, expected)
        if not ok and sample.label and normalize(sample.reference) not in {"", normalize(sample.label)}:
            recall = rouge_l_recall(sample.plain_answer, sample.reference)
            ok, details["reference_recall"] = recall >= CLAUSE_RECALL, round(recall, 3)
        sample.notes["answer_check"] = details
        return float(ok)
