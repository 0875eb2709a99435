"""Embedding metrics with the project's embedder: answer-reference similarity and answer relevancy."""

from __future__ import annotations

from ragtune.evaluation.metrics.base import Metric, Sample, metrics


def _cosine(env, a: str, b: str) -> float:
    va, vb = env.embedder.embed([a, b])
    return max(0.0, float(va @ vb))


@metrics.register("semantic_similarity")
class SemanticSimilarity(Metric):
    """Cosine similarity (clipped at 0) of the answer's and the reference's embeddings; on unanswerable
    questions 1 for a refusal and 0 otherwise, like the text metrics."""

    description = "embedding cosine of answer and reference"

    def score(self, sample: Sample) -> float:
        if sample.unanswerable:
            return float(not sample.answered)
        if not sample.answered or not sample.reference.strip():
            return 0.0
        return _cosine(self.env, sample.plain_answer, sample.reference)


@metrics.register("answer_relevancy")
class AnswerRelevancy(Metric):
    """Cosine similarity of the question's and the answer's embeddings: does the answer address the
    question? Not applicable to refusals."""

    description = "embedding cosine of question and answer"

    def score(self, sample: Sample) -> float | None:
        if not sample.answered or not sample.plain_answer:
            return None
        return _cosine(self.env, sample.question, sample.plain_answer)
