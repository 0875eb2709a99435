"""`ragtune tune reader`: the reader's models from labelled questions, each kept only when it beats the champion on
held-out documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from ragtune.cli.config_options import config_options
from ragtune.cli.output import emit_json, handle_errors, out
from ragtune.cli.tune import JsonOpt, ProjectOpt, quiet_libraries, training_progress
from ragtune.training.config import ReaderTuneConfig


def register(tune: typer.Typer) -> None:
    tune.command("reader")(reader)


@handle_errors
@config_options(ReaderTuneConfig, "training.reader")
def reader(project: ProjectOpt = Path("."), as_json: JsonOpt = False,
           overrides: dict[str, Any] | None = None) -> None:
    """Train the reader's models the labelled questions support (the yes/no verdict model; the answer-sentence
    scorer, a cross-encoder, from the Yes clauses) on part of their documents and promote each only when it beats
    the champion (the untuned reader when there is none) on the held-out documents; one that does not is
    registered as rejected."""
    from ragtune.config import with_overrides
    from ragtune.project import Project
    from ragtune.training.reader import ReaderTuner

    quiet_libraries()
    proj = Project(project)
    config = with_overrides(proj.config.training.reader, overrides or {})
    with training_progress(not as_json) as report:
        result = ReaderTuner(proj.training_resources, config).run(on_progress=report)
    if as_json:
        emit_json(result.to_dict())
        return
    d, h = result.data, result.heldout
    out.print(f"{d['labels']} labels ({d['yes']} Yes, {d['no']} No) of {d['questions']} questions on "
              f"{d['documents']} documents; held out: {len(h['documents'])} documents ({h['pairs']} "
              f"question-document pairs, {h['yes']} Yes, {h['clauses_located']} with the clause located)")
    for m in result.models:
        g = m.gate
        p = "n/a" if g["p_value"] is None else f"{g['p_value']:.3g}"
        out.print(f"[bold]{m.version.id}[/] ({m.model}, {m.decision}) trained in {m.train_seconds:.1f} s; held-out "
                  f"{m.metric.replace('_', ' ')} {m.before:.3f} ({m.champion}) -> {m.after:.3f}; "
                  f"{g['level']:.0%} interval of the difference [{g['ci_low']:+.3f}, {g['ci_high']:+.3f}], p {p}")
        out.print(f"  {g['reason']}")
