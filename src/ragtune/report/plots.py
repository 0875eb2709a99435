"""The report's plots as PNG bytes (matplotlib, Agg backend): quality with intervals, quality vs cost, cost vs
volume with break-even points, retraining cadence, latency."""

from __future__ import annotations

import io
import math

from ragtune.report.analysis import CADENCES, VOLUMES, Analysis
from ragtune.report.format import volume

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    _plt().close(fig)
    return buf.getvalue()


def _color(an: Analysis, name: str) -> str:
    return COLORS[[a["name"] for a in an.arms].index(name) % len(COLORS)]


def quality(an: Analysis) -> bytes:
    """One panel per metric: each arm's mean with its 95% bootstrap interval."""
    plt = _plt()
    metrics = [m for m in an.results["config"]["metrics"] if any(a["metrics"][m]["n"] for a in an.arms)]
    cols = 4
    rows = math.ceil(len(metrics) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False)
    names = [a["name"] for a in an.arms]
    for ax, m in zip(axes.flat, metrics, strict=False):
        for i, a in enumerate(an.arms):
            s = a["metrics"][m]
            if s["mean"] is None:
                continue
            err = [[s["mean"] - s["ci_low"]], [s["ci_high"] - s["mean"]]]
            ax.bar(i, s["mean"], color=_color(an, a["name"]), yerr=err, capsize=4)
        ax.set_title(m, fontsize=10)
        ax.set_ylim(0, 1.05)
        ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=8)
    for ax in list(axes.flat)[len(metrics):]:
        ax.axis("off")
    fig.suptitle("Quality per arm (mean, 95% bootstrap interval)")
    fig.tight_layout()
    return _png(fig)


def quality_vs_cost(an: Analysis) -> bytes:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    m = an.primary
    costs = [a["cost_per_query_usd"] for a in an.arms]
    for a in an.arms:
        s = a["metrics"][m]
        if s["mean"] is None:
            continue
        ax.errorbar(a["cost_per_query_usd"], s["mean"], yerr=[[s["mean"] - s["ci_low"]], [s["ci_high"] - s["mean"]]],
                    fmt="o", color=_color(an, a["name"]), capsize=4, markersize=8, label=a["name"])
        ax.annotate(a["name"], (a["cost_per_query_usd"], s["mean"]), textcoords="offset points", xytext=(7, 5))
    if min(costs) > 0:
        ax.set_xscale("log")
    ax.axhline(an.results["config"]["target"], color="gray", linestyle=":", label="target")
    ax.set_xlabel("cost per query (USD)")
    ax.set_ylabel(f"{m} (mean, 95% interval)")
    ax.set_ylim(0, 1.05)
    ax.set_title("Quality vs cost")
    ax.legend(fontsize=8)
    return _png(fig)


def cost_vs_volume(an: Analysis) -> bytes:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    positive = True
    for a in an.arms:
        tco = [an.tco(a["name"], v) for v in VOLUMES]
        positive &= min(tco) > 0
        ax.plot(VOLUMES, tco, color=_color(an, a["name"]), label=a["name"], linewidth=2)
    for e in an.break_evens:
        ax.plot([e["volume"]], [e["tco_usd"]], "ko", markersize=7)
        ax.annotate(f"{e['a']} = {e['b']}\n{volume(e['volume'])}/month", (e["volume"], e["tco_usd"]),
                    textcoords="offset points", xytext=(6, -22), fontsize=8)
    ax.axvline(an.volume, color="gray", linestyle=":", label=f"{volume(an.volume)} queries/month")
    ax.set_xscale("log")
    if positive:
        ax.set_yscale("log")
    ax.set_xlabel("queries per month")
    ax.set_ylabel("total cost of ownership (USD per month)")
    ax.set_title(f"Monthly cost vs volume (documents change {an.cadence}; black dots: break-even)")
    ax.legend(fontsize=8)
    ax.grid(True, which="major", alpha=0.3)
    return _png(fig)


def cadence(an: Analysis) -> bytes:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    width = 0.8 / max(len(an.arms), 1)
    for i, a in enumerate(an.arms):
        values = [an.cadence_tco[a["name"]][c] for c in CADENCES]
        ax.bar([j + i * width for j in range(len(CADENCES))], values, width, color=_color(an, a["name"]),
               label=a["name"])
    ax.set_xticks([j + width * (len(an.arms) - 1) / 2 for j in range(len(CADENCES))], CADENCES)
    ax.set_ylabel("USD per month")
    ax.set_title(f"Monthly cost at {volume(an.volume)} queries by how often documents change\n"
                 "(fine-tuned arms retrain, RAG arms re-index at each change)")
    ax.legend(fontsize=8)
    return _png(fig)


def latency(an: Analysis) -> bytes:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    names = [a["name"] for a in an.arms]
    x = range(len(names))
    ax.bar([i - 0.2 for i in x], [a["latency_s_p50"] for a in an.arms], 0.4, label="p50", color="#1f77b4")
    ax.bar([i + 0.2 for i in x], [a["latency_s_p95"] for a in an.arms], 0.4, label="p95", color="#ff7f0e")
    ax.set_xticks(list(x), names, rotation=20, ha="right")
    ax.set_ylabel("seconds per answer")
    ax.set_title("Latency")
    ax.legend()
    return _png(fig)


PLOTS = {"quality": ("Quality per arm with 95% intervals", quality),
         "quality_vs_cost": ("Quality vs cost per query", quality_vs_cost),
         "cost_vs_volume": ("Monthly cost vs query volume, with break-even points", cost_vs_volume),
         "cadence": ("Retraining cadence scenarios", cadence),
         "latency": ("Latency p50 / p95", latency)}
