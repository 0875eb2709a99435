"""`ragtune tune judge` and `ragtune tune agreement`: AI feedback and its agreement with human votes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ragtune.cli.config_options import config_options
from ragtune.cli.output import emit_json, handle_errors, out, progress_bar
from ragtune.cli.tune import JsonOpt, ProjectOpt
from ragtune.evaluation.config import JudgeConfig


def register(tune: typer.Typer) -> None:
    tune.command("judge")(judge)
    tune.command("agreement")(agreement)


def _print_agreement(a: dict) -> None:
    if not a["n"]:
        out.print(f"Agreement with human votes: no pair judged by both ({a['human_pairs']} human, {a['ai_pairs']} "
                  "AI pairs)")
        return
    kappa = "n/a" if a["kappa"] is None else f"{a['kappa']:.3f}"
    out.print(f"Agreement with human votes on {a['n']} pairs: {a['agree']}/{a['n']} ({a['agreement']:.0%}), "
              f"Cohen's kappa {kappa}")
    for human, row in a["confusion"].items():
        out.print(f"  human {human:>3}: " + "  ".join(f"ai {k} {n}" for k, n in row.items()), highlight=False)


def _pair(text: str) -> tuple[int, int]:
    from ragtune.errors import InputError

    a, _, b = (x.strip() for x in text.partition(","))
    if not (a.isdigit() and b.isdigit()):
        raise InputError(f"--pair {text!r}: expected two answer ids as A,B")
    return int(a), int(b)


@handle_errors
@config_options(JudgeConfig, "bench.judge")
def judge(project: ProjectOpt = Path("."),
          pair: Annotated[list[str] | None, typer.Option("--pair", help="Judge these two answer ids, as A,B "
                                                         "(repeatable; default: every unjudged pair).")] = None,
          limit: Annotated[int | None, typer.Option(min=1, help="Judge at most N pairs.")] = None,
          references: Annotated[str | None, typer.Option(help="QA dataset whose train/validation answers are the "
                                                         "judge's references.")] = "synth",
          as_json: JsonOpt = False, overrides: dict[str, Any] | None = None) -> None:
    """AI feedback: an LLM judge (bench.judge) compares answers to the same question, in both orders; the
    verdicts are stored as AI preferences. Prints the agreement with human votes."""
    from ragtune.config import with_overrides
    from ragtune.project import Project
    from ragtune.training.judge import judge_pairs

    pairs = [_pair(p) for p in pair] if pair else None
    proj = Project(project)
    bench = proj.config.bench
    proj.config.bench = bench.model_copy(update={"judge": with_overrides(bench.judge, overrides or {})})
    with progress_bar("Judging", enabled=not as_json) as (start, advance):
        report = judge_pairs(proj.training_resources, pairs, limit, references, on_start=start, on_pair=advance)
    if as_json:
        emit_json(report.to_dict())
        return
    s, p = report.status, report.preferred
    out.print(f"Judged {report.pairs} pair(s) with {report.judge_model} ({report.with_reference} with a reference): "
              f"a {p['a']}, b {p['b']}, tie {p['tie']}; consistent in both orders {s['consistent']}, inconsistent "
              f"{s['inconsistent']}, unparseable {s['unparseable']} (both counted as ties)")
    _print_agreement(report.agreement)


@handle_errors
def agreement(project: ProjectOpt = Path("."),
              judge_model: Annotated[str | None, typer.Option("--judge-model", help="Only this judge's verdicts "
                                                              "(default: all AI preferences).")] = None,
              as_json: JsonOpt = False) -> None:
    """Agreement of AI preferences with human votes on the answer pairs both judged (Cohen's kappa)."""
    from ragtune.project import Project
    from ragtune.training.judge import judge_agreement

    result = judge_agreement(Project(project).feedback, judge_model)
    if as_json:
        emit_json(result)
    else:
        _print_agreement(result)
