"""Correct refusal: on a question the documents cannot answer, the right answer is to say so."""

from __future__ import annotations

from ragtune.evaluation.metrics.base import Metric, Sample, metrics


@metrics.register("correct_refusal")
class CorrectRefusal(Metric):
    """1 when an unanswerable question is refused, 0 when it is answered; not applicable to answerable
    questions."""

    description = "refuses the unanswerable questions"

    def score(self, sample: Sample) -> float | None:
        return float(not sample.answered) if sample.unanswerable else None
