"""``ragtune advise``: a recommendation in plain words from measured results and the user's query volume,
quality target and data freshness.

The rule: among the arms whose mean quality reaches the target, pick the one with the lowest monthly total
cost at the user's volume (retraining and re-indexing at the user's change cadence included). When the
documents change monthly or more often and an arm that retrieves reaches the target, only arms that
retrieve are eligible: a fine-tuned model is out of date between retrainings and cannot cite. When no arm
reaches the target, the closest one is named with ways to close the gap."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ragtune.evaluation.config import CHANGES_PER_MONTH
from ragtune.report.analysis import Analysis
from ragtune.report.format import interval, num, p_value, seconds, usd, volume

PERIOD = {"daily": "a day", "weekly": "a week", "monthly": "a month", "quarterly": "three months",
          "half-yearly": "six months", "yearly": "a year"}


@dataclass
class Advice:
    recommended: str
    meets_target: bool
    metric: str
    target: float
    queries_per_month: int
    data_changes: str
    headline: str
    reasons: list[str] = field(default_factory=list)
    trade_offs: list[str] = field(default_factory=list)
    combine: str = ""
    options: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def paragraphs(self) -> list[str]:
        return [self.headline, *self.reasons, *self.trade_offs, self.combine]


def _test(an: Analysis, metric: str, a: str, b: str) -> dict | None:
    for t in an.results["comparisons"]:
        if t["metric"] == metric and {t["a"], t["b"]} == {a, b}:
            if t["a"] == a:
                return t
            return {**t, "a": a, "b": b, "diff": -t["diff"] if t["diff"] is not None else None,
                    "ci_low": -t["ci_high"] if t["ci_high"] is not None else None,
                    "ci_high": -t["ci_low"] if t["ci_low"] is not None else None}
    return None


def advise(an: Analysis, target: float, metric: str = "token_f1") -> Advice:
    """The recommendation for ``an``'s volume and cadence and a ``target`` mean of ``metric``."""
    if metric not in an.results["config"]["metrics"]:
        from ragtune.errors import InputError

        raise InputError(f"the benchmark did not measure {metric}")
    options = []
    for a in an.arms:
        m = a["metrics"][metric]
        options.append({"name": a["name"], "quality": m["mean"], "ci_low": m["ci_low"], "ci_high": m["ci_high"],
                        "meets_target": m["mean"] is not None and m["mean"] >= target,
                        "confident": m["ci_low"] is not None and m["ci_low"] >= target,
                        "retrieves": a["retrieves"], "fine_tuned": a["fine_tuned"],
                        "tco_monthly_usd": an.tco(a["name"]),
                        "cost_per_correct_usd": an.cost_per_correct_at_volume(a["name"])})
    by_name = {o["name"]: o for o in options}
    eligible = [o for o in options if o["meets_target"]]
    fresh_needed = CHANGES_PER_MONTH[an.cadence] >= 1
    reasons: list[str] = []
    if fresh_needed and any(o["retrieves"] for o in eligible) and not all(o["retrieves"] for o in eligible):
        dropped = [o["name"] for o in eligible if not o["retrieves"]]
        eligible = [o for o in eligible if o["retrieves"]]
        reasons.append(f"Your documents change {an.cadence}, so only arms that retrieve are eligible: "
                       f"{', '.join(dropped)} would answer from a snapshot up to {PERIOD[an.cadence]} old.")
    where = f"{volume(an.volume)} queries a month"
    if eligible:
        rec = min(eligible, key=lambda o: o["tco_monthly_usd"])
        headline = (f"Use {rec['name']}: it reaches {metric} {num(rec['quality'])} (95% CI "
                    f"{num(rec['ci_low'])} to {num(rec['ci_high'])}) against your target of {num(target, 2)}, "
                    f"at {usd(rec['tco_monthly_usd'])} a month for {where} "
                    f"({usd(rec['cost_per_correct_usd'])} per correct answer).")
        if not rec["confident"]:
            n = an.arm(rec["name"])["metrics"][metric]["n"]
            reasons.append(f"The lower end of its interval is below the target: {n} questions are too few to be "
                           f"sure. Benchmark more questions before committing.")
        for o in sorted((o for o in eligible if o is not rec), key=lambda o: o["tco_monthly_usd"]):
            line = (f"{o['name']} also reaches the target ({num(o['quality'])}) but costs "
                    f"{usd(o['tco_monthly_usd'])} a month")
            t = _test(an, metric, o["name"], rec["name"])
            if t and t["significant"] and t["diff"] > 0:
                line += (f"; it is significantly better ({t['diff']:+.3f}, Holm-adjusted p {p_value(t['p_holm'])}), "
                         f"worth the extra {usd(o['tco_monthly_usd'] - rec['tco_monthly_usd'])} a month only if "
                         f"quality above the target matters to you")
            even = next((e for e in an.break_evens if {e["a"], e["b"]} == {o["name"], rec["name"]}), None)
            if even and even["cheaper_above"] == o["name"]:
                line += f"; above {volume(even['volume'])} queries a month it becomes the cheaper one"
            reasons.append(line + ".")
    else:
        rec = max(options, key=lambda o: -1.0 if o["quality"] is None else o["quality"])
        headline = (f"No arm reaches {metric} {num(target, 2)}. The closest is {rec['name']} at "
                    f"{num(rec['quality'])} (95% CI {num(rec['ci_low'])} to {num(rec['ci_high'])}), costing "
                    f"{usd(rec['tco_monthly_usd'])} a month for {where}.")
        reasons.append(_gap_advice(an))
    return Advice(rec["name"], rec["meets_target"], metric, target, an.volume, an.cadence, headline,
                  reasons, _trade_offs(an, by_name[rec["name"]]), _combine(an, metric), options)


def _gap_advice(an: Analysis) -> str:
    kinds = {a["kind"] for a in an.arms}
    steps = []
    if "rag-advanced" not in kinds and not any(a["name"].startswith("rag:") for a in an.arms):
        steps.append("an advanced retrieval pipeline (--arms rag-advanced)")
    if not any(a["fine_tuned"] for a in an.arms):
        steps.append("a model fine-tuned on your documents (ragtune tune, then --arms sft)")
    if not any(a["fine_tuned"] and a["retrieves"] for a in an.arms):
        steps.append("both together (--arms rag+sft)")
    steps.append("a larger generator (llm.model: quality, or an API model)")
    return "To close the gap, benchmark " + "; ".join(steps) + "."


def _trade_offs(an: Analysis, rec: dict) -> list[str]:
    out = []
    arm = an.arm(rec["name"])
    cost = an.costs[rec["name"]]
    if rec["retrieves"]:
        faith = arm["metrics"].get("faithfulness", {}).get("mean")
        cites = arm["metrics"].get("citation_accuracy", {}).get("mean")
        grounded = [f"faithfulness {num(faith)}" if faith is not None else "",
                    f"citation accuracy {num(cites)}" if cites is not None else ""]
        grounded_text = " and ".join(g for g in grounded if g)
        out.append(f"Freshness and traceability: when the documents change ({an.cadence}), {rec['name']} "
                   f"only needs them re-indexed (`ragtune ingest` is incremental; at most {usd(cost.refresh_usd)} "
                   f"a change), and every answer cites its passages"
                   + (f" (measured {grounded_text})." if grounded_text else "."))
    if rec["fine_tuned"]:
        per_year = CHANGES_PER_MONTH[an.cadence] * 12
        out.append(f"A fine-tuned model knows only what it was trained on: to follow documents that change "
                   f"{an.cadence} it must be retrained {per_year:.0f} times a year ({usd(cost.refresh_usd)} each), "
                   f"and between retrainings its answers can be up to {PERIOD.get(an.cadence, 'indefinitely')} "
                   f"old.")
    if not rec["retrieves"] and not rec["fine_tuned"]:
        out.append("The base model answers from its pre-training alone: nothing ties its answers to your "
                   "documents, and it cannot cite them.")
    rag = [a for a in an.arms if a["retrieves"]]
    closed = [a for a in an.arms if not a["retrieves"]]
    if rag and closed:
        r, c = rag[0], min(closed, key=lambda a: a["latency_s_p50"] or 0)
        em_r, em_c = (a["metrics"].get("exact_match", {}).get("mean") for a in (r, c))
        shown = f"{r['name']} {num(em_r)}, {c['name']} {num(em_c)}"
        fmt = ""
        if c["fine_tuned"] and em_r is not None and em_c is not None:
            verb = "shows" if em_c > em_r else "does not show"
            fmt = f" Fine-tuning can also teach the answer format; exact match {verb} it here ({shown})."
        out.append(f"Latency and prompt size: retrieval puts passages in every prompt ({r['name']}: "
                   f"{r['tokens']['prompt_mean']:.0f} prompt tokens, median latency {seconds(r['latency_s_p50'])}; "
                   f"{c['name']}: {c['tokens']['prompt_mean']:.0f} tokens, {seconds(c['latency_s_p50'])})."
                   + fmt)
    return out


def _combine(an: Analysis, metric: str) -> str:
    both = [a for a in an.arms if a["retrieves"] and a["fine_tuned"]]
    rag_only = [a for a in an.arms if a["retrieves"] and not a["fine_tuned"]]
    ft_only = [a for a in an.arms if a["fine_tuned"] and not a["retrieves"]]
    if both and (rag_only or ft_only):
        combo = max(both, key=lambda a: a["metrics"][metric]["mean"] or 0)
        rivals = [max(group, key=lambda a: a["metrics"][metric]["mean"] or 0) for group in (rag_only, ft_only) if group]
        tests = [_test(an, metric, combo["name"], r["name"]) for r in rivals]
        if all(t and t["significant"] and t["diff"] > 0 for t in tests):
            return (f"Combining pays off here: {combo['name']} is significantly better than "
                    f"{' and '.join(r['name'] for r in rivals)} on {metric} ({interval(combo['metrics'][metric])}).")
        return (f"Combining did not measurably help on this test set: {combo['name']} "
                f"({interval(combo['metrics'][metric])}) is not significantly better than "
                f"{' and '.join(r['name'] for r in rivals)}.")
    return ("Combine them (a fine-tuned generator answering from retrieved passages) when the facts change "
            "often and the answers must also follow a fixed format or style: retrieval supplies current, "
            "citable facts and fine-tuning the way to answer. Measure it with --arms rag,sft,rag+sft.")
