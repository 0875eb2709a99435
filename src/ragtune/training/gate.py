"""The promotion gate of the continuous loop: a candidate replaces the champion only when it beats it by more
than the noise on a frozen held-out set, i.e. when the paired bootstrap interval of the per-question metric
difference (candidate minus champion) lies entirely above 0."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ragtune.evaluation.stats import bootstrap_mean, paired_test


@dataclass
class GateDecision:
    """The gate's verdict and the numbers it was made from (``diff`` = candidate minus champion)."""

    metric: str
    n: int
    champion: float | None
    candidate: float | None
    diff: float | None
    ci_low: float | None
    ci_high: float | None
    level: float
    p_value: float | None
    promote: bool
    reason: str

    def to_dict(self) -> dict:
        return asdict(self)


def decide(metric: str, champion: list[float], candidate: list[float], seed: int = 0, samples: int = 2000,
           level: float = 0.95) -> GateDecision:
    """Compare per-question scores of the same questions (same order). Promote iff the ``level`` percentile
    bootstrap interval of the mean difference excludes 0 on the positive side. The paired permutation p-value
    is reported alongside, not used."""
    if len(champion) != len(candidate):
        raise ValueError(f"paired scores differ in length: {len(champion)} vs {len(candidate)}")
    if not champion:
        return GateDecision(metric, 0, None, None, None, None, None, level, None, False, "no held-out questions")
    d = [c - b for c, b in zip(candidate, champion, strict=True)]
    ci = bootstrap_mean(d, seed, f"gate|{metric}", samples, level)
    p_value = paired_test(metric, "candidate", "champion", candidate, champion, seed, bootstrap=100).p_value
    pct = f"{level:.0%}"
    interval = f"{pct} interval of the {metric} difference [{ci.ci_low:+.4f}, {ci.ci_high:+.4f}]"
    promote = ci.ci_low > 0
    if promote:
        reason = f"better than the champion: {interval} lies above 0"
    elif ci.ci_high < 0:
        reason = f"worse than the champion: {interval} lies below 0"
    else:
        reason = f"not better beyond the noise: {interval} includes 0"
    return GateDecision(metric, ci.n, sum(champion) / len(champion), sum(candidate) / len(candidate), ci.mean,
                        ci.ci_low, ci.ci_high, level, p_value, promote, reason)
