"""``ragtune advise``: a recommendation in plain words from measured results and the user's query volume,
quality target and data freshness.

The rule: among the arms whose mean quality reaches the target, pick the one with the lowest monthly total
cost at the user's volume (retraining and re-indexing at the user's change cadence included). When the
documents change monthly or more often and an arm that retrieves reaches the target, only arms that
retrieve are eligible: a fine-tuned model is out of date between retrainings and cannot cite. When no arm
reaches the target, the closest one is named with ways to close the gap.

Arms are never ranked on a difference their paired test cannot separate: arms not significantly worse than
the one with the highest mean (Holm-adjusted) are tied with it; advise says so, with the questions that would
separate them, and chooses among tied arms by cost and latency, never by their means.

It also names which tuning paid: each tuned arm beside its untuned counterpart (``COUNTERPART``), with their paired
difference, its interval and p, and the training it cost; it paid when it is significantly better."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ragtune.evaluation.config import CHANGES_PER_MONTH
from ragtune.report.analysis import Analysis
from ragtune.report.format import interval, needed, num, p_value, seconds, usd, volume

Tie = tuple[dict[str, Any], dict[str, Any]]  # an option and its paired test against the best option
# The untuned arm kind each tuned arm kind is measured against (with the same pipeline and strategy where listed).
COUNTERPART = {"rag+tuned": "rag", "rag+sft": "rag", "sft": "base", "sft+dpo": "base"}
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
    tied: list[str] = field(default_factory=list)  # the highest-mean arm and those its tests do not separate
    tuning: list[dict[str, Any]] = field(default_factory=list)  # each tuned arm against its untuned counterpart
    tuning_text: str = ""

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def paragraphs(self) -> list[str]:
        return [self.headline, *self.reasons, *self.trade_offs, self.combine, *filter(None, [self.tuning_text])]


def _cost(o: dict[str, Any]) -> tuple[float, float]:
    """How tied arms are chosen between: monthly TCO, then median latency."""
    return o["tco_monthly_usd"], o["latency_s_p50"] if o["latency_s_p50"] is not None else float("inf")


def _ties(an: Analysis, metric: str, options: list[dict[str, Any]]) -> tuple[dict[str, Any] | None, list[Tie]]:
    """The option with the highest mean and the (option, test) pairs that its paired test does not separate
    from it (not significantly worse after Holm's correction)."""
    scored = [o for o in options if o["quality"] is not None]
    if not scored:
        return None, []
    best = max(scored, key=lambda o: o["quality"])
    tied: list[Tie] = []
    for o in scored:
        t = an.test(metric, best["name"], o["name"]) if o is not best else None
        if t and not (t["significant"] and t["diff"] > 0):
            tied.append((o, t))
    return best, tied


def _tie_text(metric: str, best: dict[str, Any], tied: list[Tie]) -> str:
    pairs = ", ".join(f"{o['name']} ({num(o['quality'])}, Holm-adjusted p {p_value(t['p_holm'])}; {needed(t)})"
                      for o, t in tied)
    n = max(t["n"] for _, t in tied)
    return (f"Quality did not separate {best['name']} (the highest mean {metric}, {num(best['quality'])}) from "
            f"{pairs} on {n} questions: they are tied, so only cost and latency tell them apart.")


def advise(an: Analysis, target: float, metric: str = "token_f1") -> Advice:
    """The recommendation for ``an``'s volume and cadence and a ``target`` mean of ``metric``. Arms whose paired
    test does not separate them from the best one are tied: cost, not their means, decides between them."""
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
                        "tco_monthly_usd": an.tco(a["name"]), "latency_s_p50": a["latency_s_p50"],
                        "cost_per_correct_usd": an.cost_per_correct_at_volume(a["name"])})
    by_name = {o["name"]: o for o in options}
    best, tied = _ties(an, metric, options)
    eligible = [o for o in options if o["meets_target"]]
    fresh_needed = CHANGES_PER_MONTH[an.cadence] >= 1
    reasons: list[str] = []
    if fresh_needed and any(o["retrieves"] for o in eligible) and not all(o["retrieves"] for o in eligible):
        dropped = [o["name"] for o in eligible if not o["retrieves"]]
        eligible = [o for o in eligible if o["retrieves"]]
        reasons.append(f"Your documents change {an.cadence}, so only arms that retrieve are eligible: "
                       f"{', '.join(dropped)} would answer from a snapshot up to {PERIOD[an.cadence]} old.")
    if best and tied:
        reasons.append(_tie_text(metric, best, tied))
    where = f"{volume(an.volume)} queries a month"
    if eligible:
        rec = min(eligible, key=_cost)
        headline = (f"Use {rec['name']}: it reaches {metric} {num(rec['quality'])} (95% CI "
                    f"{num(rec['ci_low'])} to {num(rec['ci_high'])}) against your target of {num(target, 2)}, "
                    f"at {usd(rec['tco_monthly_usd'])} a month for {where} "
                    f"({usd(rec['cost_per_correct_usd'])} per correct answer).")
        if any(o is best for o in eligible) and any(o is rec for o, _ in tied):
            headline += (f" Quality does not separate it from {best['name']} ({num(best['quality'])}), so cost "
                         f"decides between them.")
        if not rec["confident"]:
            n = an.arm(rec["name"])["metrics"][metric]["n"]
            reasons.append(f"The lower end of its interval is below the target: {n} questions are too few to be "
                           f"sure. Benchmark more questions before committing.")
        for o in sorted((o for o in eligible if o is not rec), key=_cost):
            line = (f"{o['name']} also reaches the target ({num(o['quality'])}) but costs "
                    f"{usd(o['tco_monthly_usd'])} a month")
            t = an.test(metric, o["name"], rec["name"])
            if t and t["significant"] and t["diff"] > 0:
                line += (f"; it is significantly better ({t['diff']:+.3f}, Holm-adjusted p {p_value(t['p_holm'])}), "
                         f"worth the extra {usd(o['tco_monthly_usd'] - rec['tco_monthly_usd'])} a month only if "
                         f"quality above the target matters to you")
            elif t and t["diff"] is not None and t["diff"] > 0:
                line += f"; its higher mean is not a separable difference ({needed(t)})"
            even = next((e for e in an.break_evens if {e["a"], e["b"]} == {o["name"], rec["name"]}), None)
            if even and even["cheaper_above"] == o["name"]:
                line += f"; above {volume(even['volume'])} queries a month it becomes the cheaper one"
            reasons.append(line + ".")
        for o, _ in tied:
            if not o["meets_target"] and _cost(o) < _cost(rec):
                reasons.append(f"{o['name']} misses the target on its mean ({num(o['quality'])}) but is tied with "
                               f"{best['name']} and costs {usd(o['tco_monthly_usd'])} a month: benchmark more "
                               f"questions to tell whether it is good enough.")
    elif best and tied:
        rec = min([best, *(o for o, _ in tied)], key=_cost)
        headline = (f"No arm reaches {metric} {num(target, 2)}. The highest mean is {best['name']}'s "
                    f"{num(best['quality'])} (95% CI {num(best['ci_low'])} to {num(best['ci_high'])}), but quality "
                    f"does not separate it from {', '.join(o['name'] for o, _ in tied)}; among these tied arms "
                    f"{rec['name']} costs the least: {usd(rec['tco_monthly_usd'])} a month for {where}.")
        reasons.append(_gap_advice(an))
    else:
        rec = max(options, key=lambda o: -1.0 if o["quality"] is None else o["quality"])
        headline = (f"No arm reaches {metric} {num(target, 2)}. The closest is {rec['name']} at "
                    f"{num(rec['quality'])} (95% CI {num(rec['ci_low'])} to {num(rec['ci_high'])}), costing "
                    f"{usd(rec['tco_monthly_usd'])} a month for {where}.")
        reasons.append(_gap_advice(an))
    tuning = _tuning(an, metric)
    return Advice(rec["name"], rec["meets_target"], metric, target, an.volume, an.cadence, headline,
                  reasons, _trade_offs(an, by_name[rec["name"]]), _combine(an, metric), options,
                  [best["name"], *(o["name"] for o, _ in tied)] if best and tied else [], tuning,
                  _tuning_text(tuning, metric))


def counterpart(an: Analysis, arm: dict[str, Any]) -> dict[str, Any] | None:
    """The untuned arm a tuned ``arm`` is measured against: its ``COUNTERPART`` kind with the same pipeline and
    strategy (``rag+tuned:hyde:extract`` -> ``rag:hyde:extract``), else with the same last part (a strategy:
    ``rag+sft:v3:generate`` -> ``rag:generate``), else the kind alone; None when the bench has none of them."""
    kind = COUNTERPART.get(arm["kind"])
    if kind is None:
        return None
    rest = arm["name"].split(":")[1:]
    names = [a["name"] for a in an.arms]
    found = next((n for n in (":".join([kind, *rest]), ":".join([kind, *rest[-1:]]), kind) if n in names), None)
    return an.arm(found) if found else None


def _tuning(an: Analysis, metric: str) -> list[dict[str, Any]]:
    """Per tuned arm with a counterpart in the bench: the paired test of tuned minus untuned on ``metric``, the
    training it cost (hours, examples, tokens, and the monthly cost it adds at the volume) and whether it paid
    (significantly better, Holm-adjusted)."""
    out = []
    for arm in an.arms:
        other = counterpart(an, arm)
        t = an.test(metric, arm["name"], other["name"]) if other else None
        if t is None or t["diff"] is None:
            continue
        usage = arm["usage"]
        out.append({"tuned": arm["name"], "untuned": other["name"], "metric": metric, "diff": t["diff"],
                    "ci_low": t["ci_low"], "ci_high": t["ci_high"], "p_value": t["p_value"], "p_holm": t["p_holm"],
                    "n": t["n"], "paid": bool(t["significant"] and t["diff"] > 0),
                    "training_hours": usage["training_hours"], "training_examples": usage["training_examples"],
                    "training_tokens": usage["training_tokens"], "refresh_usd": an.costs[arm["name"]].refresh_usd,
                    "extra_monthly_usd": an.tco(arm["name"]) - an.tco(other["name"])})
    return out


def _training_text(t: dict[str, Any]) -> str:
    hours = t["training_hours"] or 0.0
    spent = f"{hours:.2f} h" if hours >= 1 else f"{hours * 3600:.0f} s"
    parts = [f"{spent} of training", f"{t['training_examples'] or 0:,} examples"]
    if t["training_tokens"]:
        parts.append(f"{t['training_tokens']:,} tokens")
    return ", ".join(parts) + f", {usd(t['extra_monthly_usd'])} a month more than {t['untuned']}"


def _tuning_text(tuning: list[dict[str, Any]], metric: str) -> str:
    """Which tuning paid, in one paragraph: each tuned arm's difference from its counterpart and its cost."""
    if not tuning:
        return ""
    lines = [f"{t['tuned']} vs {t['untuned']}: {t['diff']:+.3f} {metric} (95% CI {t['ci_low']:+.3f} to "
             f"{t['ci_high']:+.3f}, p {p_value(t['p_value'])}, Holm-adjusted {p_value(t['p_holm'])}; "
             f"{t['n']} questions) for {_training_text(t)}" for t in tuning]
    paid = [t["tuned"] for t in tuning if t["paid"]]
    if paid:
        lead = f"Tuning paid for {', '.join(paid)}" + (
            "" if len(paid) == len(tuning) else f"; not for {', '.join(t['tuned'] for t in tuning if not t['paid'])}")
    else:
        lead = "No tuning paid on this test set: no tuned arm is significantly better than its untuned counterpart"
    return f"{lead}. " + "; ".join(lines) + "."


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
        tests = [an.test(metric, combo["name"], r["name"]) for r in rivals]
        if all(t and t["significant"] and t["diff"] > 0 for t in tests):
            return (f"Combining pays off here: {combo['name']} is significantly better than "
                    f"{' and '.join(r['name'] for r in rivals)} on {metric} ({interval(combo['metrics'][metric])}).")
        return (f"Combining did not measurably help on this test set: {combo['name']} "
                f"({interval(combo['metrics'][metric])}) is not significantly better than "
                f"{' and '.join(r['name'] for r in rivals)}.")
    return ("Combine them (a fine-tuned generator answering from retrieved passages) when the facts change "
            "often and the answers must also follow a fixed format or style: retrieval supplies current, "
            "citable facts and fine-tuning the way to answer. Measure it with --arms rag,sft,rag+sft.")
