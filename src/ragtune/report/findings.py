"""The report's summary sentences, each computed from the numbers its tables show."""

from __future__ import annotations

from ragtune.report.analysis import Analysis
from ragtune.report.format import interval, p_value, seconds, usd, volume


def findings(an: Analysis) -> list[str]:
    r, metric = an.results, an.primary
    arms = an.arms
    scored = [a for a in arms if a["metrics"][metric]["mean"] is not None]
    out = []
    if scored:
        best = max(scored, key=lambda a: a["metrics"][metric]["mean"])
        out.append(f"On {r['n_questions']} questions, {best['name']} has the highest {metric}: "
                   f"{interval(best['metrics'][metric])} (mean [95% bootstrap interval]).")
        for t in r["comparisons"]:
            if t["metric"] != metric or best["name"] not in (t["a"], t["b"]) or t["diff"] is None:
                continue
            other = t["b"] if t["a"] == best["name"] else t["a"]
            sign = 1 if t["a"] == best["name"] else -1
            lo, hi = sorted((sign * t["ci_low"], sign * t["ci_high"]))
            verdict = "significant" if t["significant"] else "not significant"
            out.append(f"{best['name']} vs {other}: {sign * t['diff']:+.3f} [{lo:+.3f}, {hi:+.3f}] on {t['n']} "
                       f"paired questions, Holm-adjusted p = {p_value(t['p_holm'])} ({verdict} at "
                       f"alpha {r['config']['alpha']}).")
    costs = an.costs
    cheapest = min(costs.values(), key=lambda c: c.cost_per_query_usd)
    out.append(f"Cheapest per query: {cheapest.name} at {usd(cheapest.cost_per_query_usd)} "
               f"(price sheet {r['price_sheet']['name']}).")
    per_correct = [c for c in costs.values() if c.cost_per_correct_usd is not None]
    none_correct = [c.name for c in costs.values() if c.cost_per_correct_usd is None]
    if per_correct:
        c = min(per_correct, key=lambda c: c.cost_per_correct_usd)
        out.append(f"Cheapest per correct answer ({metric} >= {r['config']['correct_threshold']}): {c.name} at "
                   f"{usd(c.cost_per_correct_usd)}"
                   + (f" ({', '.join(none_correct)}: no correct answer)." if none_correct else "."))
    at_volume = min(arms, key=lambda a: an.tco(a["name"]))
    out.append(f"At {volume(an.volume)} queries a month with documents changing {an.cadence}, {at_volume['name']} "
               f"has the lowest total cost: {usd(an.tco(at_volume['name']))} a month.")
    for e in an.break_evens:
        out.append(f"{e['cheaper_below']} is cheaper below {volume(e['volume'])} queries a month, "
                   f"{e['cheaper_above']} above.")
    fastest = min(arms, key=lambda a: a["latency_s_p50"])
    out.append(f"Fastest: {fastest['name']} (median {seconds(fastest['latency_s_p50'])}, "
               f"95th percentile {seconds(fastest['latency_s_p95'])}).")
    if "answer_correctness" in r["config"]["metrics"]:
        calls = sum(a["judge_calls"]["n"] for a in arms)
        ungraded = sum(a["judge_calls"]["ungraded"] for a in arms)
        if calls:
            out.append(f"The judge ({r['judge']['model']}) was asked {calls} times and gave no grade {ungraded} "
                       f"times; those answers are left out of answer_correctness.")
    return out
