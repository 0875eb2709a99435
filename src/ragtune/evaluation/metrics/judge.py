"""Answer correctness graded by an LLM judge with a fixed 1-5 rubric."""

from __future__ import annotations

import re
from typing import Any

from ragtune.evaluation.metrics.base import Metric, MetricEnv, Sample, metrics

RUBRIC = (
    "You grade an answer to a question against the reference answer. Reply with one digit from 1 to 5: "
    "5 = states the same facts as the reference; 4 = correct but incomplete, or with minor extra detail; "
    "3 = partly correct; 2 = mostly wrong; 1 = wrong, unrelated or contradicting the reference."
)
_DIGIT = re.compile(r"(?<!\d)[1-5](?!\d)")


def judge_messages(question: str, reference: str, answer: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": RUBRIC},
            {"role": "user", "content": f"Question: {question}\nReference answer: {reference}\n"
                                        f"Answer to grade: {answer}\nHow correct is the answer, from 1 to 5?"}]


def parse_grade(text: str) -> int | None:
    """The first stand-alone digit 1-5 of the judge's reply, or None when there is none."""
    m = _DIGIT.search(text)
    return int(m.group()) if m else None


def grade(env: MetricEnv, question: str, reference: str, answer: str) -> tuple[int | None, dict[str, Any]]:
    """The judge's grade of ``answer`` (None: no grade in its reply) and the call's details."""
    judge = env.judge
    gen = judge.generate(judge_messages(question, reference, answer), max_tokens=env.config.judge.max_tokens,
                         temperature=0.0)
    g = parse_grade(gen.text)
    return g, {"model": gen.model, "reply": gen.text.strip(), "grade": g, **gen.usage}


def calibrate(env: MetricEnv, questions: list[tuple[str, str]]) -> dict[str, Any]:
    """``judge.mode: auto``: grade control answers to the answerable ``(question, reference)`` pairs, each
    reference as the answer to its own question (right: 4 or 5) and as the answer to the next question with
    another reference (wrong: 1 or 2), and set ``env.judge_usable`` to whether the judge sorts at least
    ``judge.min_accuracy`` of them right. A judge that grades everything alike would only add noise."""
    cfg = env.config.judge
    if cfg.mode == "on":
        return {"mode": "on", "used": True}
    pairs = [(q, ref) for q, ref in questions if ref.strip()]
    controls = []
    for i, (question, reference) in enumerate(pairs[: cfg.controls // 2]):
        other = next((r for _, r in pairs[i + 1:] + pairs[:i] if r != reference), None)
        if other is not None:
            controls += [(question, reference, reference, True), (question, reference, other, False)]
    if not controls:
        env.judge_usable = False
        return {"mode": "auto", "used": False, "controls": 0, "accuracy": None,
                "note": "too few answerable questions with different references to calibrate the judge"}
    right = 0
    for question, reference, answer, good in controls:
        g = grade(env, question, reference, answer)[0]
        right += g is not None and (g >= 4 if good else g <= 2)
    accuracy = right / len(controls)
    env.judge_usable = accuracy >= cfg.min_accuracy
    return {"mode": "auto", "used": env.judge_usable, "controls": len(controls), "accuracy": round(accuracy, 3),
            "min_accuracy": cfg.min_accuracy}


@metrics.register("answer_correctness")
class AnswerCorrectness(Metric):
    """The judge's 1-5 grade mapped to [0, 1] as (grade - 1) / 4. A refusal of an answerable question scores
    0 and an unanswerable question scores 1 for a refusal and 0 otherwise, without asking the judge. A reply
    without a grade is not applicable (None) and is kept in the sample's notes; so is every answer when the
    judge failed its calibration."""

    description = "LLM judge grade against the reference"

    def score(self, sample: Sample) -> float | None:
        if not self.env.judge_usable:
            return None
        if sample.unanswerable:
            return float(not sample.answered)
        if not sample.answered:
            return 0.0
        g, call = grade(self.env, sample.question, sample.reference, sample.plain_answer)
        sample.notes["judge"] = call
        return None if g is None else (g - 1) / 4
