"""Statistics over per-question scores: percentile bootstrap intervals, paired tests with their power, Holm's
correction. Every random draw comes from a generator seeded with (seed, a stable hash of what is being
resampled), so results are reproducible and do not change when other arms or metrics are added."""

from __future__ import annotations

import math
import zlib
from dataclasses import asdict, dataclass
from statistics import NormalDist

import numpy as np

TINY = 1e-12  # differences and spreads below this are float noise, treated as 0


def rng_for(seed: int, key: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(key.encode())])


@dataclass
class Interval:
    mean: float | None
    ci_low: float | None
    ci_high: float | None
    n: int

    def to_dict(self) -> dict:
        return asdict(self)


def bootstrap_mean(values: list[float], seed: int, key: str, samples: int = 2000, level: float = 0.95) -> Interval:
    """The mean and its percentile bootstrap interval (resampling questions with replacement)."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return Interval(None, None, None, 0)
    idx = rng_for(seed, key).integers(0, x.size, size=(samples, x.size))
    means = x[idx].mean(axis=1)
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(means, [tail, 100 - tail])
    return Interval(float(x.mean()), float(lo), float(hi), int(x.size))


@dataclass
class PairedTest:
    """Arm ``a`` minus arm ``b`` on the questions both have a score for. ``mdd``: the minimum detectable
    difference on these questions; ``n_needed``: questions needed to detect the observed difference; ``power``:
    the chance of detecting the observed difference on these questions (all at the test's alpha and power, see
    `min_detectable_difference`)."""

    metric: str
    a: str
    b: str
    n: int
    diff: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    p_holm: float | None = None
    significant: bool = False
    mdd: float | None = None
    n_needed: int | None = None
    power: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _z_sum(alpha: float, power: float) -> float:
    """z_{1-alpha/2} + z_power."""
    nd = NormalDist()
    return nd.inv_cdf(1 - alpha / 2) + nd.inv_cdf(power)


def min_detectable_difference(sd: float, n: int, alpha: float = 0.05, power: float = 0.8) -> float | None:
    """The smallest mean paired difference a two-sided test at ``alpha`` detects with probability ``power`` on
    ``n`` questions whose differences have standard deviation ``sd`` (normal approximation):
    (z_{1-alpha/2} + z_power) sd / sqrt(n). None when n < 2 or sd is 0."""
    if n < 2 or sd <= 0:
        return None
    return _z_sum(alpha, power) * sd / math.sqrt(n)


def questions_needed(diff: float, sd: float, alpha: float = 0.05, power: float = 0.8) -> int | None:
    """Questions needed to detect a mean paired difference ``diff`` with probability ``power`` at two-sided
    ``alpha``: ceil(((z_{1-alpha/2} + z_power) sd / |diff|)^2). None when diff or sd is 0."""
    if abs(diff) < TINY or sd <= 0:
        return None
    return math.ceil((_z_sum(alpha, power) * sd / abs(diff)) ** 2 - 1e-9)


def achieved_power(diff: float, sd: float, n: int, alpha: float = 0.05) -> float | None:
    """The probability that a two-sided test at ``alpha`` on ``n`` questions detects a true mean difference
    ``diff`` (normal approximation, both tails). None when n < 2 or sd is 0."""
    if n < 2 or sd <= 0:
        return None
    nd = NormalDist()
    z, shift = nd.inv_cdf(1 - alpha / 2), abs(diff) * math.sqrt(n) / sd
    return nd.cdf(shift - z) + nd.cdf(-shift - z)


def paired_test(metric: str, a: str, b: str, xa: list[float], xb: list[float], seed: int,
                bootstrap: int = 2000, permutations: int = 10000, alpha: float = 0.05,
                power: float = 0.8) -> PairedTest:
    """Mean difference with a paired bootstrap interval, and a two-sided paired permutation (sign-flip) test:
    under the null hypothesis each question's difference is equally likely to have either sign. The p-value
    counts the observed statistic itself ((k + 1) / (B + 1)), so it is never 0. Also the test's power from
    the differences' standard deviation (``mdd``, ``n_needed``, ``power`` at ``alpha`` and ``power``)."""
    d = np.asarray(xa, dtype=float) - np.asarray(xb, dtype=float)
    if d.size == 0:
        return PairedTest(metric, a, b, 0, None, None, None, None)
    key = f"{metric}|{a}|{b}"
    ci = bootstrap_mean(list(d), seed, key, bootstrap)
    observed = abs(d.mean())
    signs = rng_for(seed, key + "|perm").choice([-1.0, 1.0], size=(permutations, d.size))
    null = np.abs((signs * d).mean(axis=1))
    p = (int(np.sum(null >= observed - TINY)) + 1) / (permutations + 1)
    diff, n = float(d.mean()), int(d.size)
    sd = float(d.std(ddof=1)) if n >= 2 and np.ptp(d) > TINY else 0.0
    return PairedTest(metric, a, b, n, diff, ci.ci_low, ci.ci_high, float(p),
                      mdd=min_detectable_difference(sd, n, alpha, power),
                      n_needed=questions_needed(diff, sd, alpha, power) if n >= 2 else None,
                      power=achieved_power(diff, sd, n, alpha))


def holm(tests: list[PairedTest], alpha: float) -> None:
    """Holm-Bonferroni adjustment of the tests' p-values (in place); sets ``p_holm`` and ``significant``."""
    ranked = sorted((t for t in tests if t.p_value is not None), key=lambda t: t.p_value)
    m, running = len(ranked), 0.0
    for i, t in enumerate(ranked):
        running = max(running, min(1.0, (m - i) * t.p_value))
        t.p_holm = running
        t.significant = running < alpha


def percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None
