"""``ragtune report``: one self-contained HTML file with plots, plus JSON, CSV and Markdown, from a bench run."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from ragtune.report.advise import Advice, advise
from ragtune.report.analysis import CADENCES, Analysis, analyse
from ragtune.report.document import Section, Table, to_html, to_markdown
from ragtune.report.findings import findings
from ragtune.report.format import interval, num, p_value, questions, seconds, usd, volume


def build_sections(an: Analysis, advice: Advice) -> list[Section]:
    r = an.results
    metrics = r["config"]["metrics"]
    arms = an.arms
    sheet = r["price_sheet"]
    leak = r["leakage"]
    leak_text = ("No question occurs in the training data." if leak.get("checked")
                 else f"Overlap with training data was not checked: {leak.get('reason')}.")
    sections = [
        Section("Summary", findings(an)),
        Section(f"What this benchmark can tell apart ({an.primary})", [
            f"Paired tests of every pair of arms on {an.primary}, significant differences (Holm-adjusted) first. "
            f"Detectable difference: the smallest true mean difference a two-sided paired test at alpha "
            f"{r['config']['alpha']} finds with {an.power:.0%} probability on these questions, "
            f"(z(1 - alpha/2) + z(power)) x sd / sqrt(n), where sd is the observed standard deviation of the "
            f"per-question differences. Power: the chance of detecting the observed difference on these questions. "
            f"Questions needed: the number on which the observed difference would be found with "
            f"{an.power:.0%} probability, ((z(1 - alpha/2) + z(power)) x sd / |difference|)^2. "
            f"Normal approximations before Holm's correction, so rough guides, not guarantees."],
            [], [_tests_table(an, [an.primary])]),
        Section(f"Recommendation ({volume(an.volume)} queries a month, documents change {an.cadence}, "
                f"target {advice.metric} {num(advice.target, 2)})", advice.paragraphs, [],
                [_tuning_table(advice)] if advice.tuning else []),
        Section("Test set", [
            f"{r['n_questions']} questions from {r['questions_source']}; every arm answered the same frozen set, "
            f"test_set_sha256 = {r['test_set_sha256']}. {leak_text} Intervals: percentile bootstrap over "
            f"questions ({r['config']['bootstrap_samples']} resamples); tests: paired sign-flip permutation "
            f"({r['config']['permutations']} permutations), Holm-adjusted per metric; seed {r['seed']}. "
            f"Significance is decided by the adjusted permutation test; with few questions the bootstrap interval of "
            f"a difference is too narrow and can exclude 0 when the test does not reject.",
            f"LLM judge for answer_correctness: {r['judge']['model']} ({r['judge']['backend']}), with a fixed "
            f"1-5 rubric mapped to (grade - 1) / 4. {_calibration_text(r['judge'].get('calibration'))}"
            f"Grounding metrics use lexical support (a passage supports a "
            f"claim when it holds {r['config']['support_overlap']:.0%} of the claim's content words)."]),
        Section("Quality", [f"Mean [95% interval] (n questions the metric applies to). An answer counts as "
                            f"correct when {an.primary} >= {r['config']['correct_threshold']}."],
                ["quality"], [_quality_table(an)]),
        Section("Cost per query and per correct answer", [
            f"Price sheet {sheet['name']}: {sheet['description']}",
            *(f"Source: {s}" for s in sheet["sources"]),
            f"Totals at {volume(an.volume)} queries a month with documents changing {an.cadence} "
            f"(a refresh is re-indexing for arms that retrieve, retraining for fine-tuned arms)."],
            ["quality_vs_cost"], [_cost_table(an)]),
        Section("Cost vs volume", [
            "Monthly total cost of ownership = fixed monthly cost + cost per query x volume. Where two lines "
            "cross, the arm with the lower cost per query becomes the cheaper one."],
            ["cost_vs_volume"], [_break_even_table(an)]),
        Section("Retraining cadence", [
            f"Monthly cost at {volume(an.volume)} queries when the documents change at each cadence: fine-tuned "
            f"arms retrain at every change, arms that retrieve re-index."], ["cadence"], [_cadence_table(an)]),
        Section("Latency and tokens", [], ["latency"], [Table(
            ["arm", "model", "p50", "p95", "prompt tokens (mean)", "completion tokens (mean)", "correct"],
            [[a["name"], str(a["model"]), seconds(a["latency_s_p50"]), seconds(a["latency_s_p95"]),
              f"{a['tokens']['prompt_mean']:.1f}", f"{a['tokens']['completion_mean']:.1f}",
              f"{a['n_correct']}/{a['n_questions']}"] for a in arms])]),
        Section("All paired tests", [], [], [_tests_table(an, metrics)], collapsed=True),
        Section("Per question", [], [], [_question_table(an)], collapsed=True),
        Section("Metrics", [], [], [Table(["metric", "what it measures"], [[m, _describe(m)] for m in metrics])]),
    ]
    return sections


def _calibration_text(calibration: dict[str, Any] | None) -> str:
    """The judge's calibration (``bench.judge.mode: auto``) in a sentence, or '' when it was not calibrated."""
    if not calibration or calibration["mode"] != "auto":
        return ""
    if calibration.get("note"):
        return f"It was not used: {calibration['note']}, so answer_correctness is not measured. "
    sorted_right = (f"it graded {calibration['accuracy']:.0%} of {calibration['controls']} control answers right "
                    f"(reference answers as the answer to their own question and to another one)")
    if calibration["used"]:
        return f"Before grading, {sorted_right}. "
    return (f"It was not used: {sorted_right}, below the {calibration['min_accuracy']:.0%} needed, so "
            f"answer_correctness is not measured; set bench.judge to a stronger model. ")


def _describe(metric: str) -> str:
    from ragtune.evaluation.metrics import metrics

    return metrics.get(metric).description


def _quality_table(an: Analysis) -> Table:
    rows = [[m, *(f"{interval(a['metrics'][m])} ({a['metrics'][m]['n']})" for a in an.arms)]
            for m in an.results["config"]["metrics"]]
    rows.append(["correct (share)", *(f"{interval(a['accuracy'])} ({a['n_correct']}/{a['n_questions']})"
                                      for a in an.arms)])
    return Table(["metric", *(a["name"] for a in an.arms)], rows, "Quality per arm")


def _tuning_table(advice: Advice) -> Table:
    rows = [[t["tuned"], t["untuned"], f"{t['diff']:+.3f} [{t['ci_low']:+.3f}, {t['ci_high']:+.3f}]",
             p_value(t["p_value"]), p_value(t["p_holm"]), f"{(t['training_hours'] or 0) * 3600:,.0f} s",
             f"{t['training_examples'] or 0:,}", f"{t['training_tokens']:,}" if t["training_tokens"] else "-",
             usd(t["extra_monthly_usd"]), "yes" if t["paid"] else "no"] for t in advice.tuning]
    return Table(["tuned arm", "untuned", f"{advice.metric} difference [95% CI]", "p", "p (Holm)", "training",
                  "examples", "tokens", "extra cost / month", "paid"], rows, "Which tuning paid")


def _tests_table(an: Analysis, metrics: list[str]) -> Table:
    """Paired tests as the arm with the higher mean minus the other, significant ones first, with their power."""
    power = f"{an.power:.0%}"
    rows = [[t["metric"], f"{t['a']} - {t['b']}", str(t["n"]),
             f"{t['diff']:+.3f} [{t['ci_low']:+.3f}, {t['ci_high']:+.3f}]",
             p_value(t["p_value"]), p_value(t["p_holm"]), "yes" if t["significant"] else "no",
             num(t.get("mdd")), "n/a" if t.get("power") is None else f"{t['power']:.0%}",
             "-" if t["significant"] else questions(t.get("n_needed"))]
            for m in metrics for t in an.tests(m) if t["n"]]
    return Table(["metric", "difference", "n", "mean diff [95% CI]", "p", "p (Holm)", "significant",
                  f"detectable difference ({power} power)", "power (observed difference)", "questions needed"],
                 rows, "Paired tests")


def _cost_table(an: Analysis) -> Table:
    rows = []
    for a in an.arms:
        c = an.costs[a["name"]]
        rows.append([a["name"], usd(c.generation_usd), usd(c.retrieval_usd), usd(c.cost_per_query_usd),
                     usd(c.cost_per_correct_usd), usd(c.refresh_usd), usd(c.fixed_monthly_usd),
                     usd(an.tco(a["name"])), usd(an.cost_per_correct_at_volume(a["name"]))])
    return Table(["arm", "generation / query", "retrieval / query", "cost / query", "cost / correct",
                  "refresh (per change)", "fixed / month", "TCO / month", "TCO / correct answer"], rows, "Cost")


def _break_even_table(an: Analysis) -> Table:
    rows = [[e["a"], e["b"], volume(e["volume"]), usd(e["tco_usd"]), e["cheaper_below"], e["cheaper_above"]]
            for e in an.break_evens]
    if not rows:
        rows = [["-", "-", "none: one arm is cheaper at every volume", "-", "-", "-"]]
    return Table(["arm a", "arm b", "break-even queries / month", "TCO there / month", "cheaper below",
                  "cheaper above"], rows, "Break-even volumes")


def _cadence_table(an: Analysis) -> Table:
    rows = [[a["name"], *(usd(an.cadence_tco[a["name"]][c]) for c in CADENCES)] for a in an.arms]
    return Table(["arm", *CADENCES], rows, f"TCO per month at {volume(an.volume)} queries")


def _question_table(an: Analysis) -> Table:
    m = an.primary
    rows = []
    for q in an.results["per_question"]:
        for name, a in q["arms"].items():
            rows.append([q["question"], "(unanswerable)" if q["unanswerable"] else q["reference"], name, a["answer"],
                         num(a["scores"].get(m))])
    return Table(["question", "reference", "arm", "answer", m], rows, "Answers")


def _csv(rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue()


def arms_csv(an: Analysis) -> str:
    metrics = an.results["config"]["metrics"]
    header = ["arm", "model", "n_questions", *(f"{m}{s}" for m in metrics for s in ("", "_ci_low", "_ci_high")),
              "accuracy", "latency_s_p50", "latency_s_p95", "prompt_tokens_mean", "completion_tokens_mean",
              "cost_per_query_usd", "cost_per_correct_usd", "fixed_monthly_usd", "tco_monthly_usd"]
    rows = [header]
    for a in an.arms:
        rows.append([a["name"], a["model"], a["n_questions"],
                     *(a["metrics"][m][k] for m in metrics for k in ("mean", "ci_low", "ci_high")),
                     a["accuracy"]["mean"], a["latency_s_p50"], a["latency_s_p95"], a["tokens"]["prompt_mean"],
                     a["tokens"]["completion_mean"], a["cost_per_query_usd"], a["cost_per_correct_usd"],
                     an.costs[a["name"]].fixed_monthly_usd, an.tco(a["name"])])
    return _csv(rows)


def questions_csv(an: Analysis) -> str:
    metrics = an.results["config"]["metrics"]
    rows = [["id", "question", "reference", "unanswerable", "arm", "answer", "answered", "latency_s",
             "prompt_tokens", "completion_tokens", *metrics]]
    for q in an.results["per_question"]:
        for name, a in q["arms"].items():
            rows.append([q["id"], q["question"], q["reference"], q["unanswerable"], name, a["answer"], a["answered"],
                         a["latency_s"], a["prompt_tokens"], a["completion_tokens"],
                         *(a["scores"].get(m) for m in metrics)])
    return _csv(rows)


def write_report(workdir: Path, run: str | None = None, out: Path | None = None,
                 queries_per_month: int | None = None, data_changes: str | None = None) -> dict[str, str]:
    """Write report.html, report.md, report.json, arms.csv and questions.csv into ``out`` (default: the run
    folder); returns their paths. ``workdir``: the project's ``.ragtune/``, whose bench runs are read."""
    from ragtune.evaluation.bench import bench_dir, latest_run, load_results
    from ragtune.report.plots import PLOTS

    results = load_results(workdir, run)
    folder = Path(out) if out else (bench_dir(workdir) / run if run else latest_run(workdir))
    folder.mkdir(parents=True, exist_ok=True)
    an = analyse(results, queries_per_month, data_changes)
    advice = advise(an, results["config"]["target"], an.primary)
    sections = build_sections(an, advice)
    figures = {key: (caption, fn(an)) for key, (caption, fn) in PLOTS.items()}
    title = f"ragtune benchmark: {', '.join(a['name'] for a in an.arms)}"
    paths = {"html": folder / "report.html", "markdown": folder / "report.md", "json": folder / "report.json",
             "arms_csv": folder / "arms.csv", "questions_csv": folder / "questions.csv"}
    paths["html"].write_text(to_html(title, sections, figures), encoding="utf-8")
    paths["markdown"].write_text(to_markdown(title, sections, figures), encoding="utf-8")
    paths["json"].write_text(json.dumps({"results": results, "analysis": an.to_dict(), "findings": findings(an),
                                         "advice": advice.to_dict()}, indent=2, default=str) + "\n",
                             encoding="utf-8")
    paths["arms_csv"].write_text(arms_csv(an), encoding="utf-8")
    paths["questions_csv"].write_text(questions_csv(an), encoding="utf-8")
    return {k: str(v) for k, v in paths.items()}
