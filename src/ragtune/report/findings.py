"""The report's summary sentences, each computed from the numbers its tables show."""

from __future__ import annotations

from ragtune.report.analysis import Analysis
from ragtune.report.format import interval, needed, num, p_value, seconds, usd, volume


def power_line(an: Analysis) -> str | None:
    """One sentence on what the benchmark can tell apart on the primary metric: the minimum detectable
    difference, then every pair of arms, significant differences (Holm-adjusted) first, and for the others how
    many questions would separate them. None without paired tests."""
    r, metric = an.results, an.primary
    tests = [t for t in an.tests(metric) if t["n"]]
    if not tests:
        return None
    ns = sorted({t["n"] for t in tests})
    n_text = str(ns[0]) if len(ns) == 1 else f"{ns[0]} to {ns[-1]}"
    mdds = [t["mdd"] for t in tests if t.get("mdd") is not None]
    if mdds:
        lo, hi = num(min(mdds)), num(max(mdds))
        size = lo if lo == hi else f"{lo} to {hi} (depending on the pair)"
        parts = [f"With {n_text} questions this benchmark can detect {metric} differences of {size} or more "
                 f"({an.power:.0%} power, alpha {r['config']['alpha']})"]
    else:
        parts = [f"Paired differences in {metric} on {n_text} questions"]
    if not any(t["significant"] for t in tests):
        parts.append("no difference is significant after Holm's correction")
    for t in tests:
        pair = f"{t['a']} vs {t['b']}: {t['diff']:+.3f}"
        parts.append(f"{pair} (Holm p = {p_value(t['p_holm'])})" if t["significant"]
                     else f"{pair}, not separable, {needed(t)}")
    return "; ".join(parts) + "."


def findings(an: Analysis) -> list[str]:
    r, metric = an.results, an.primary
    arms = an.arms
    scored = [a for a in arms if a["metrics"][metric]["mean"] is not None]
    power = power_line(an)
    out = [power] if power else []
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
            verdict = "significant" if t["significant"] else f"not significant; {needed(t)}"
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
