"""`ragtune tune verdicts`: yes/no verdict models from human-labelled questions about the project's documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from ragtune.cli.config_options import config_options
from ragtune.cli.output import emit_json, handle_errors, out
from ragtune.cli.tune import JsonOpt, ProjectOpt, training_progress
from ragtune.training.config import VerdictTuneConfig


def register(tune: typer.Typer) -> None:
    tune.command("verdicts")(verdicts)


@handle_errors
@config_options(VerdictTuneConfig, "training.verdicts")
def verdicts(project: ProjectOpt = Path("."), as_json: JsonOpt = False,
             overrides: dict[str, Any] | None = None) -> None:
    """Learn yes/no verdicts (is the clause in this document?) from labelled questions: a tf-idf logistic
    regression per question, its threshold cross-validated over documents; registers a verdicts version."""
    from ragtune.config import with_overrides
    from ragtune.project import Project
    from ragtune.training.verdicts import VerdictTuner

    proj = Project(project)
    config = with_overrides(proj.config.training.verdicts, overrides or {})
    with training_progress(not as_json) as report:
        result = VerdictTuner(proj.training_resources, config).run(on_progress=report)
    if as_json:
        emit_json(result.to_dict())
        return
    v, d, e = result.version, result.data, result.evaluation
    left = {k: n for k, n in d.items() if k not in ("questions", "documents", "passages", "labels", "yes", "no")}
    out.print(f"[bold]{v.id}[/] (verdicts, {v.status}) learned {d['questions']} yes/no questions from {d['labels']} "
              f"labels ({d['yes']} Yes, {d['no']} No) on {d['documents']} documents ({d['passages']} passages) in "
              f"{result.seconds:.1f} s" + (f"; left out: {left}" if left else ""))
    shown = "n/a" if e["cv_auc"] is None else f"{e['cv_auc']:.3f}"
    out.print(f"Cross-validated over documents ({e['cv_pairs']} question-document pairs): AUC {shown}, balanced "
              f"accuracy {e['cv_balanced_accuracy']:.3f} at threshold {v.metrics['threshold']:.3f} (No to all: 0.5)")
    out.print(f"Use it: `answer.verdicts: {v.id}` in ragtune.yaml (or promote it and use champion)")
