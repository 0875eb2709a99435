"""`ragtune tune dpo` and `ragtune tune kto`: preference tuning (LoRA) on the feedback store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from ragtune.cli.config_options import config_options
from ragtune.cli.output import emit_json, err, handle_errors, out
from ragtune.cli.tune import JsonOpt, ParentOpt, ProjectOpt, ResumeOpt, quiet_libraries, training_progress
from ragtune.training.config import DPOConfig, KTOConfig


def register(tune: typer.Typer) -> None:
    tune.command("dpo")(dpo)
    tune.command("kto")(kto)


def _preference(kind: str, project: Path, parent: str, resume: bool, as_json: bool,
                overrides: dict[str, Any]) -> None:
    from ragtune.config import with_overrides
    from ragtune.project import Project
    from ragtune.training.dpo import DPO
    from ragtune.training.kto import KTO

    quiet_libraries()
    proj = Project(project)
    config = with_overrides(getattr(proj.config.training, kind), overrides)
    with training_progress(not as_json) as report:
        result = {"dpo": DPO, "kto": KTO}[kind](proj.training_resources, config).run(parent=parent, resume=resume,
                                                                                     on_progress=report)
    if as_json:
        emit_json(result.to_dict())
        return
    v, t = result.version, result.train
    rewards = "  ".join(f"{k} {t[k]:.4g}" for k in ("rewards/accuracies", "rewards/margins", "kl") if k in t)
    out.print(f"[bold]{v.id}[/] ({v.kind} from {v.parent or 'the base model'}, {v.status}) trained {t['steps']} "
              f"steps on {result.examples} rows in {t['seconds']:.0f} s; loss {t['train_loss']}  {rewards}")
    m = v.metrics
    if "test_token_f1" in m:
        out.print(f"Test split ({m['test_n']} questions): token F1 {m['base_token_f1']:.3f} -> {m['test_token_f1']:.3f}"
                  f", ROUGE-L {m['base_rouge_l']:.3f} -> {m['test_rouge_l']:.3f} (base -> {v.id})")
    for w in result.warnings:
        err.print(f"[yellow]warning:[/] {w}", highlight=False)
    out.print(f"Try it: ragtune ask --model {v.id} \"...\"   Promote it: ragtune models promote {v.id}")


@handle_errors
@config_options(DPOConfig, "training.dpo")
def dpo(project: ProjectOpt = Path("."), parent: ParentOpt = "champion", resume: ResumeOpt = False,
        as_json: JsonOpt = False, overrides: dict[str, Any] | None = None) -> None:
    """DPO (LoRA) on the feedback store's preference pairs; registers a dpo version."""
    _preference("dpo", project, parent, resume, as_json, overrides or {})


@handle_errors
@config_options(KTOConfig, "training.kto")
def kto(project: ProjectOpt = Path("."), parent: ParentOpt = "champion", resume: ResumeOpt = False,
        as_json: JsonOpt = False, overrides: dict[str, Any] | None = None) -> None:
    """KTO (LoRA) on answers the feedback store labels good or bad; registers a kto version."""
    _preference("kto", project, parent, resume, as_json, overrides or {})
