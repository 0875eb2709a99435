"""``ragtune bench``, ``ragtune report`` and ``ragtune advise``. Keep imports here light."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ragtune.cli.config_options import config_options
from ragtune.cli.output import emit_json, err, handle_errors, out, progress_bar
from ragtune.evaluation.config import BenchConfig

ProjectOpt = Annotated[Path, typer.Option("--project", "-p", help="Project folder (holds ragtune.yaml).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
RunOpt = Annotated[str | None, typer.Option("--run", help="Bench run name (default: named by the question "
                                                          "file's hash; report/advise: the latest run).")]
CADENCES = "never, yearly, half-yearly, quarterly, monthly, weekly, daily"


def _summary(results: dict, report: str) -> dict:
    keep = ("name", "kind", "model", "metrics", "accuracy", "n_correct", "latency_s_p50", "latency_s_p95", "tokens",
            "cost_per_query_usd", "cost_per_correct_usd")
    return {"test_set_sha256": results["test_set_sha256"], "n_questions": results["n_questions"],
            "run": results["run"], "report": report, "seed": results["seed"],
            "arms": [{k: a[k] for k in keep} for a in results["arms"]]}


ARM_GAP = 2  # columns are two spaces apart: one of padding, one of the blank divider
ARM_MIN = 16  # narrowest arm column that keeps one-line rows ("extract+generate")


def _arm_label(label: str, width: int) -> str:
    """``label`` in lines of at most ``width``, broken after a ':', or after a '+' inside a longer part
    (rich folds what is still longer): ``rag+sft:extract+generate`` -> ``rag+sft:`` / ``extract+generate``."""
    import re

    def pieces(part: str) -> list[str]:
        return [part] if len(part) <= width else re.findall(r"[^+]+\+*|\++", part)

    lines = [""]
    for piece in (p for part in re.findall(r"[^:]+:*|:+", label) for p in pieces(part)):
        if lines[-1] and len(lines[-1]) + len(piece) > width:
            lines.append("")
        lines[-1] += piece
    return "\n".join(lines)


def _arm_cells(a: dict, metrics: list[str], stacked: bool) -> list[str]:
    """One arm's cells after its label; ``stacked`` puts each interval under its mean. Costs are per 1,000."""
    from ragtune.report.format import interval_compact, seconds_compact, usd_compact

    def per_1k(x: float | None) -> str:
        return usd_compact(None if x is None else 1000 * x)

    prompt, completion = a["tokens"]["prompt_mean"], a["tokens"]["completion_mean"]
    return [*(interval_compact(a["metrics"][m], "\n" if stacked else " ") for m in metrics),
            f"{a['n_correct']}/{a['n_questions']}", seconds_compact(a["latency_s_p50"]),
            "n/a" if prompt is None or completion is None else f"{prompt:.0f}/{completion:.0f}",
            per_1k(a["cost_per_query_usd"]), per_1k(a["cost_per_correct_usd"])]


def print_arms(results: dict, metrics: list[str] | None = None) -> None:
    """The arms table, whole within the console's width (80 in a log): ``metrics`` (default: the primary one)
    with intervals, correct answers, median latency, tokens and cost; intervals go under their means and long
    arm labels wrap when one-line rows do not fit. p95 latency stays in the report."""
    from rich import box
    from rich.cells import cell_len
    from rich.table import Table

    def width(texts: list[str]) -> int:
        return max(cell_len(line) for text in texts for line in text.split("\n"))

    cfg = results["config"]
    metrics = metrics or [cfg["primary_metric"]]
    heads = [*metrics, "correct", "p50", "tokens\nin/out", "$ / 1k\nqueries", "$ / 1k\ncorrect"]
    labels = [a["name"] for a in results["arms"]]
    longest = width(["arm", *labels])
    for stacked in (False, True):
        rows = [_arm_cells(a, metrics, stacked) for a in results["arms"]]
        used = sum(width([h, *(r[i] for r in rows)]) + ARM_GAP for i, h in enumerate(heads))
        arm_width = min(longest, max(out.width - used, 4))
        if arm_width >= min(longest, ARM_MIN):
            break
    labels = [_arm_label(label, arm_width) for label in labels]
    threshold = f" >= {cfg['correct_threshold']:g}" if cfg.get("correct_threshold") is not None else ""
    table = Table(title=f"{results['n_questions']} questions, test set {results['test_set_sha256'][:12]}",
                  caption=f"{', '.join(metrics)}: mean [95% interval]; correct: {cfg['primary_metric']}"
                          f"{threshold}; p50: median latency; tokens: mean in/out per query; "
                          "$ per 1,000 queries and per 1,000 correct answers",
                  caption_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
                  collapse_padding=True, leading=int(stacked or any("\n" in label for label in labels)))
    table.add_column("arm", width=arm_width, overflow="fold")
    for h in heads:
        table.add_column(h, justify="right", no_wrap=True)
    for label, row in zip(labels, rows, strict=True):
        table.add_row(label, *row)
    out.print(table, highlight=False)


def print_power(results: dict) -> None:
    """The report's power line: what this question count can tell apart on the primary metric."""
    from ragtune.report.analysis import analyse
    from ragtune.report.findings import power_line

    line = power_line(analyse(results))
    if line:
        out.print(line, highlight=False)


@config_options(BenchConfig, "bench")
def bench(questions: Annotated[Path | None, typer.Option("--questions", help="CSV/JSONL with question and answer "
                                                         "columns (default: the synth test split).")] = None,
          limit: Annotated[int | None, typer.Option("--limit", min=1, help="Use the first N questions.")] = None,
          run: RunOpt = None, project: ProjectOpt = Path("."), as_json: JsonOpt = False,
          engine: Annotated[str | None, typer.Option("--engine", help="Where questions are answered: local or ray "
                                                     "(Ray Data workers; scale.engine, default: local).")] = None,
          overrides: dict[str, Any] | None = None) -> None:
    """Benchmark arms on one frozen question set: quality with intervals, latency, tokens, cost. Resumable."""
    from ragtune.config import with_overrides
    from ragtune.evaluation.bench import run_bench
    from ragtune.project import Project
    from ragtune.report import write_report

    proj = Project(project)
    proj.config.bench = with_overrides(proj.config.bench, overrides or {})
    proj.config.scale = with_overrides(proj.config.scale, {"engine": engine})
    with progress_bar("Benchmarking", enabled=not as_json) as (start, advance):
        results = run_bench(proj.bench_system, None, questions, limit, None, run, on_start=start,
                            on_answer=advance)
    paths = write_report(proj.workdir, results["run"])
    if as_json:
        emit_json(_summary(results, paths["html"]))
        return
    print_arms(results)
    print_power(results)
    out.print(f"test_set_sha256: {results['test_set_sha256']}")
    out.print(f"Report: {paths['html']}")


def report(run: RunOpt = None,
           out_dir: Annotated[Path | None, typer.Option("--out", help="Folder for the report files "
                                                                     "(default: the run folder).")] = None,
           queries_per_month: Annotated[int | None, typer.Option("--queries-per-month", min=1,
                                                                 help="Volume to price (default: bench config).")
                                        ] = None,
           data_changes: Annotated[str | None, typer.Option("--data-changes", help=f"How often documents change: "
                                                            f"{CADENCES}.")] = None,
           project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Write the HTML report (with plots), Markdown, JSON and CSV of a bench run."""
    from ragtune.project import Project
    from ragtune.report import write_report

    _check_cadence(data_changes)
    paths = write_report(Project(project).workdir, run, out_dir, queries_per_month, data_changes)
    if as_json:
        emit_json(paths)
    else:
        for kind, path in paths.items():
            out.print(f"{kind}: {path}", highlight=False)


def advise(queries_per_month: Annotated[int, typer.Option("--queries-per-month", min=1, help="Expected volume.")],
           target_f1: Annotated[float, typer.Option("--target-f1", min=0, max=1, help="Token F1 the answers must "
                                                    "reach on average.")],
           data_changes: Annotated[str, typer.Option("--data-changes", help=f"How often the documents change: "
                                                     f"{CADENCES}.")] = "quarterly",
           run: RunOpt = None, project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Recommend RAG, fine-tuning or both from measured results, your volume, target and data freshness."""
    from ragtune.evaluation.bench import load_results
    from ragtune.project import Project
    from ragtune.report.advise import advise as make_advice
    from ragtune.report.analysis import analyse

    _check_cadence(data_changes)
    results = load_results(Project(project).workdir, run)
    advice = make_advice(analyse(results, queries_per_month, data_changes), target_f1, "token_f1")
    if as_json:
        emit_json({"run": results["run"], "test_set_sha256": results["test_set_sha256"], **advice.to_dict()})
        return
    out.print(f"[bold]{advice.headline}[/]", highlight=False)
    for p in advice.paragraphs[1:]:
        out.print()
        out.print(p, highlight=False)
    err.print(f"[dim]from bench run {results['run']} ({results['n_questions']} questions)[/]")


def _check_cadence(value: str | None) -> None:
    from ragtune.errors import InputError
    from ragtune.evaluation.config import CHANGES_PER_MONTH

    if value is not None and value not in CHANGES_PER_MONTH:
        raise InputError(f"--data-changes {value!r}: expected one of {CADENCES}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.command("bench")(handle_errors(bench))
    app.command("report")(handle_errors(report))
    app.command("advise")(handle_errors(advise))
