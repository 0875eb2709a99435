"""Cost analysis of benchmark results at a query volume and a document-change cadence: the numbers the
report's tables, plots and text and ``advise`` all use, so they cannot disagree."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np

from ragtune.evaluation.config import CHANGES_PER_MONTH, BenchConfig
from ragtune.evaluation.cost import ArmCost, ArmUsage, CostModel, Deployment, PriceSheet, break_even

CADENCES = ["monthly", "quarterly", "half-yearly", "yearly"]
VOLUMES = [float(v) for v in np.logspace(2, 7, 51)]


@dataclass
class Analysis:
    results: dict[str, Any]
    volume: int
    cadence: str
    costs: dict[str, ArmCost]
    break_evens: list[dict[str, Any]]
    cadence_tco: dict[str, dict[str, float]]

    @property
    def arms(self) -> list[dict[str, Any]]:
        return self.results["arms"]

    @property
    def primary(self) -> str:
        return self.results["config"]["primary_metric"]

    @property
    def power(self) -> float:
        """The power of the paired tests' detectable differences (the default for results that predate it)."""
        return self.results["config"].get("power", BenchConfig.model_fields["power"].default)

    def arm(self, name: str) -> dict[str, Any]:
        return next(a for a in self.arms if a["name"] == name)

    def test(self, metric: str, a: str, b: str) -> dict[str, Any] | None:
        """The paired test of arms ``a`` and ``b`` on ``metric``, as ``a`` minus ``b``; None if there is none."""
        for t in self.results["comparisons"]:
            if t["metric"] == metric and {t["a"], t["b"]} == {a, b}:
                return t if t["a"] == a else _reversed(t)
        return None

    def tests(self, metric: str) -> list[dict[str, Any]]:
        """The paired tests on ``metric`` that have a difference, each as the arm with the higher mean minus the
        other; significant ones first, then by Holm-adjusted p."""
        out = [t if t["diff"] >= 0 else _reversed(t)
               for t in self.results["comparisons"] if t["metric"] == metric and t["diff"] is not None]
        return sorted(out, key=lambda t: (not t["significant"], t["p_holm"] if t["p_holm"] is not None else 1.0))

    def tco(self, name: str, volume: float | None = None) -> float:
        return self.costs[name].tco(self.volume if volume is None else volume)

    def cost_per_correct_at_volume(self, name: str) -> float | None:
        correct = self.arm(name)["accuracy"]["mean"] * self.volume
        return self.tco(name) / correct if correct else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "queries_per_month": self.volume, "data_changes": self.cadence,
            "changes_per_month": CHANGES_PER_MONTH[self.cadence],
            "arms": [{**self.costs[a["name"]].to_dict(), "tco_monthly_usd": self.tco(a["name"]),
                      "cost_per_correct_at_volume_usd": self.cost_per_correct_at_volume(a["name"])}
                     for a in self.arms],
            "break_even": self.break_evens,
            "cadence_tco_monthly_usd": self.cadence_tco,
        }


def _reversed(t: dict[str, Any]) -> dict[str, Any]:
    """A paired test as ``b`` minus ``a``."""
    return {**t, "a": t["b"], "b": t["a"], "diff": -t["diff"] if t["diff"] is not None else None,
            "ci_low": -t["ci_high"] if t["ci_high"] is not None else None,
            "ci_high": -t["ci_low"] if t["ci_low"] is not None else None}


def cost_model(results: dict[str, Any]) -> CostModel:
    return CostModel(PriceSheet.model_validate(results["price_sheet"]), Deployment(**results["deployment"]))


def analyse(results: dict[str, Any], volume: int | None = None, cadence: str | None = None) -> Analysis:
    """Costs of every arm at ``volume`` queries a month with documents changing at ``cadence`` (defaults:
    the bench config), break-even volumes of every pair, and monthly TCO under each retraining cadence."""
    volume = volume or results["config"]["queries_per_month"]
    cadence = cadence or results["config"]["data_changes"]
    model = cost_model(results)
    usages = {a["name"]: ArmUsage(**a["usage"]) for a in results["arms"]}
    costs = {n: model.arm(u, cadence) for n, u in usages.items()}
    evens = []
    for a, b in combinations(costs, 2):
        v = break_even(costs[a], costs[b])
        if v is None:
            continue
        cheaper_above = a if costs[a].cost_per_query_usd < costs[b].cost_per_query_usd else b
        evens.append({"a": a, "b": b, "volume": v, "cheaper_below": b if cheaper_above == a else a,
                      "cheaper_above": cheaper_above, "tco_usd": costs[a].tco(v)})
    cadence_tco = {n: {c: model.arm(u, c).tco(volume) for c in CADENCES} for n, u in usages.items()}
    return Analysis(results, volume, cadence, costs, evens, cadence_tco)
