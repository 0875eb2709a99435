"""Answer-text metrics (SQuAD-style normalisation): exact match, token F1, ROUGE-L F-measure. On an
unanswerable question each scores 1 for a refusal and 0 for any answer (the SQuAD 2.0 convention)."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable

from ragtune.evaluation.metrics.base import Metric, Sample, metrics

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans("", "", string.punctuation)


def normalize(text: str) -> str:
    """Lower-case, drop punctuation, articles and extra white space (as the SQuAD evaluation script)."""
    return " ".join(_ARTICLES.sub(" ", text.lower().translate(_PUNCT)).split())


def exact_match(prediction: str, reference: str) -> float:
    return float(normalize(prediction) == normalize(reference))


def token_f1(prediction: str, reference: str) -> float:
    pred, ref = normalize(prediction).split(), normalize(reference).split()
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def _lcs(a: list[str], b: list[str]) -> int:
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b, start=1):
            cur.append(prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1]


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F1 over normalised tokens (longest common subsequence)."""
    pred, ref = normalize(prediction).split(), normalize(reference).split()
    if not pred or not ref:
        return float(pred == ref)
    lcs = _lcs(pred, ref)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(pred), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)


def rouge_l_recall(prediction: str, reference: str) -> float:
    """ROUGE-L recall: the share of reference tokens in the longest common subsequence (as the KDD 2024
    tutorial reports it)."""
    pred, ref = normalize(prediction).split(), normalize(reference).split()
    if not pred or not ref:
        return float(pred == ref)
    return _lcs(pred, ref) / len(ref)


class _AgainstReference(Metric):
    """Compares the answer (citation markers removed; '' for a refusal) with the reference answer."""

    compare: Callable[[str, str], float]

    def score(self, sample: Sample) -> float:
        if sample.unanswerable:
            return float(not sample.answered)
        return self.compare(sample.plain_answer, sample.reference)


@metrics.register("exact_match")
class ExactMatch(_AgainstReference):
    description = "normalised answer equals the reference"
    compare = staticmethod(exact_match)


@metrics.register("token_f1")
class TokenF1(_AgainstReference):
    description = "F1 of answer and reference tokens"
    compare = staticmethod(token_f1)


@metrics.register("rouge_l")
class RougeL(_AgainstReference):
    description = "F-measure of the longest common token subsequence"
    compare = staticmethod(rouge_l)


@metrics.register("rouge_l_recall")
class RougeLRecall(_AgainstReference):
    description = "share of reference tokens in the longest common token subsequence"
    compare = staticmethod(rouge_l_recall)
