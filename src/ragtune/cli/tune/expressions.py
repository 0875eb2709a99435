"""`ragtune tune expressions`: LoRA SFT of the expression writer on synthetic examples from the indexed table rows,
promoted only when it beats the champion on held-out documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from ragtune.cli.config_options import config_options
from ragtune.cli.output import emit_json, handle_errors, out
from ragtune.cli.tune import JsonOpt, ProjectOpt, quiet_libraries, training_progress
from ragtune.training.config import ExpressionTuneConfig


def register(tune: typer.Typer) -> None:
    tune.command("expressions")(expressions)


@handle_errors
@config_options(ExpressionTuneConfig, "training.expressions")
def expressions(project: ProjectOpt = Path("."), as_json: JsonOpt = False,
                overrides: dict[str, Any] | None = None) -> None:
    """Train the expression writer (answer.expressions) from the current LLM on (question, operands) ->
    expression examples made from the indexed table rows; register it, and promote it only when its held-out
    right-result rate beats the champion's (the untuned LLM when there is none); otherwise it is rejected. Use it
    with answer.expressions: {writer: llm, model: champion}."""
    from ragtune.config import with_overrides
    from ragtune.project import Project
    from ragtune.training.expressions import ExpressionTuner

    quiet_libraries()
    proj = Project(project)
    config = with_overrides(proj.config.training.expressions, overrides or {})
    with training_progress(not as_json) as report:
        result = ExpressionTuner(proj.training_resources, config).run(on_progress=report)
    if as_json:
        emit_json(result.to_dict())
        return
    e, b, a, g = result.examples, result.before, result.after, result.gate
    out.print(f"{e['train']} training examples, {e['test']} held out ({e['held_out_documents']} of {e['documents']} "
              f"documents); trained {result.train['steps']} steps in {result.train['seconds']:.0f} s")
    out.print(f"[bold]{result.version.id}[/] ({result.decision}): held-out valid expressions {b['valid']:.3f} -> "
              f"{a['valid']:.3f}, right results {b['right']:.3f} -> {a['right']:.3f} ({g['metric']}: {g['reason']})")
