"""Answer and retrieval metrics, registered by name; ``build_metrics`` makes the configured ones."""

from ragtune.evaluation.metrics import correctness, finance, grounding, judge, refusal, semantic  # noqa: F401  (they register)
from ragtune.evaluation.metrics.base import Metric, MetricEnv, Sample, metrics
from ragtune.evaluation.metrics.text import exact_match, normalize, rouge_l, token_f1

__all__ = ["Metric", "MetricEnv", "Sample", "build_metrics", "exact_match", "metrics", "normalize", "rouge_l",
           "token_f1"]


def build_metrics(names: list[str], env: MetricEnv) -> list[Metric]:
    """The metrics named in ``names``, in that order (an unknown name is an error listing the known ones)."""
    return [metrics.get(n)(env) for n in names]
