"""Metrics of grounding in the retrieved passages: faithfulness, context precision and recall, citation
accuracy. A passage *supports* a claim when it contains at least ``support_overlap`` of the claim's content
words (words of 3+ letters that are not stop words): a lexical check that needs no model, so it is fast and
reproducible, and strict about paraphrase."""

from __future__ import annotations

from ragtune.evaluation.metrics.base import Metric, Sample, metrics
from ragtune.text import CLAIM_SENTENCES, content_words, marker_numbers, split_sentences, strip_markers

_UNINFORMATIVE = frozenset({"yes"})


def words(text: str) -> set[str]:
    return content_words(strip_markers(text)) - _UNINFORMATIVE


def claims(text: str) -> list[str]:
    """The sentences of ``text`` that carry content words."""
    return [s.strip() for s in split_sentences(text, CLAIM_SENTENCES) if words(s)]


def supports(passage: set[str], claim: set[str], threshold: float) -> bool:
    return bool(claim) and len(claim & passage) / len(claim) >= threshold


def _evidence(sample: Sample) -> list[set[str]]:
    """What a good retrieval must contain: the gold passages, else the reference answer's sentences."""
    items = sample.gold_contexts or claims(sample.reference)
    return [w for w in map(words, items) if w]


@metrics.register("faithfulness")
class Faithfulness(Metric):
    """Share of the answer's claims (sentences) supported by the retrieved passages taken together."""

    description = "share of answer claims supported by the context"

    def score(self, sample: Sample) -> float | None:
        if sample.contexts is None or not sample.answered:
            return None
        found = [words(c) for c in claims(sample.answer)]
        if not found:
            return None
        context = set().union(*map(words, sample.contexts))
        return sum(supports(context, c, self.env.config.support_overlap) for c in found) / len(found)


@metrics.register("context_precision")
class ContextPrecision(Metric):
    """Average precision of the ranked passages, a passage being relevant when it supports an evidence item
    (a gold passage, or a sentence of the reference answer): relevant passages should come first."""

    description = "relevant passages ranked first"

    def score(self, sample: Sample) -> float | None:
        evidence = _evidence(sample)
        if sample.contexts is None or sample.unanswerable or not evidence:
            return None
        t = self.env.config.support_overlap
        relevant = [any(supports(words(c), e, t) for e in evidence) for c in sample.contexts]
        hits, total = 0, 0.0
        for k, rel in enumerate(relevant, start=1):
            if rel:
                hits += 1
                total += hits / k
        return total / hits if hits else 0.0


@metrics.register("context_recall")
class ContextRecall(Metric):
    """Share of the evidence items (gold passages, or reference sentences) the retrieved passages support."""

    description = "share of the evidence that was retrieved"

    def score(self, sample: Sample) -> float | None:
        evidence = _evidence(sample)
        if sample.contexts is None or sample.unanswerable or not evidence:
            return None
        context = set().union(set(), *map(words, sample.contexts))
        return sum(supports(context, e, self.env.config.support_overlap) for e in evidence) / len(evidence)


@metrics.register("citation_accuracy")
class CitationAccuracy(Metric):
    """Share of the answer's [n] markers whose passage n supports the sentence the marker is in."""

    description = "cited passages support their sentences"

    def score(self, sample: Sample) -> float | None:
        if sample.contexts is None or not sample.answered:
            return None
        checked = []
        for sentence in split_sentences(sample.answer, CLAIM_SENTENCES):
            claim = words(sentence)
            for n in marker_numbers(sentence):
                ok = 1 <= n <= len(sample.contexts) and supports(words(sample.contexts[n - 1]), claim,
                                                                  self.env.config.support_overlap)
                checked.append(ok)
        return sum(checked) / len(checked) if checked else None
