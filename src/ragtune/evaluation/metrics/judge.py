"""Answer correctness graded by an LLM judge with a fixed 1-5 rubric."""

from __future__ import annotations

import re

from ragtune.evaluation.metrics.base import Metric, Sample, metrics

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


@metrics.register("answer_correctness")
class AnswerCorrectness(Metric):
    """The judge's 1-5 grade mapped to [0, 1] as (grade - 1) / 4. A refusal of an answerable question scores
    0 and an unanswerable question scores 1 for a refusal and 0 otherwise, without asking the judge. A reply
    without a grade is not applicable (None) and is kept in the sample's notes."""

    description = "LLM judge grade against the reference"

    def score(self, sample: Sample) -> float | None:
        if sample.unanswerable:
            return float(not sample.answered)
        if not sample.answered:
            return 0.0
        judge = self.env.judge
        gen = judge.generate(judge_messages(sample.question, sample.reference, sample.plain_answer),
                             max_tokens=self.env.config.judge.max_tokens, temperature=0.0)
        grade = parse_grade(gen.text)
        sample.notes["judge"] = {"model": gen.model, "reply": gen.text.strip(), "grade": grade, **gen.usage}
        return None if grade is None else (grade - 1) / 4
