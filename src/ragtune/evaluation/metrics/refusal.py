"""Refusals: on a question the documents cannot answer, the right answer is to say so; on one they can
answer, a refusal is a miss."""

from __future__ import annotations

from ragtune.evaluation.metrics.base import Metric, Sample, metrics


@metrics.register("correct_refusal")
class CorrectRefusal(Metric):
    """1 when an unanswerable question is refused, 0 when it is answered; not applicable to answerable
    questions."""

    description = "refuses the unanswerable questions"

    def score(self, sample: Sample) -> float | None:
        return float(not sample.answered) if sample.unanswerable else None


@metrics.register("false_refusal")
class FalseRefusal(Metric):
    """1 when an answerable question is refused, 0 when it is answered; not applicable to unanswerable
    questions."""

    description = "refuses answerable questions"

    def score(self, sample: Sample) -> float | None:
        return None if sample.unanswerable else float(not sample.answered)


@metrics.register("false_answer")
class FalseAnswer(Metric):
    """1 when an unanswerable question is answered, 0 when it is refused; not applicable to answerable
    questions."""

    description = "answers unanswerable questions"

    def score(self, sample: Sample) -> float | None:
        return float(sample.answered) if sample.unanswerable else None
