"""Statistics over per-question scores: percentile bootstrap intervals, paired tests, Holm's correction.
Every random draw comes from a generator seeded with (seed, a stable hash of what is being resampled), so
results are reproducible and do not change when other arms or metrics are added."""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass

import numpy as np


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
    """Arm ``a`` minus arm ``b`` on the questions both have a score for."""

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

    def to_dict(self) -> dict:
        return asdict(self)


def paired_test(metric: str, a: str, b: str, xa: list[float], xb: list[float], seed: int,
                bootstrap: int = 2000, permutations: int = 10000) -> PairedTest:
    """Mean difference with a paired bootstrap interval, and a two-sided paired permutation (sign-flip) test:
    under the null hypothesis each question's difference is equally likely to have either sign. The p-value
    counts the observed statistic itself ((k + 1) / (B + 1)), so it is never 0."""
    d = np.asarray(xa, dtype=float) - np.asarray(xb, dtype=float)
    if d.size == 0:
        return PairedTest(metric, a, b, 0, None, None, None, None)
    key = f"{metric}|{a}|{b}"
    ci = bootstrap_mean(list(d), seed, key, bootstrap)
    observed = abs(d.mean())
    signs = rng_for(seed, key + "|perm").choice([-1.0, 1.0], size=(permutations, d.size))
    null = np.abs((signs * d).mean(axis=1))
    p = (int(np.sum(null >= observed - 1e-12)) + 1) / (permutations + 1)
    return PairedTest(metric, a, b, int(d.size), float(d.mean()), ci.ci_low, ci.ci_high, float(p))


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
