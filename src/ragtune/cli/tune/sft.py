"""`ragtune tune sft`: LoRA SFT of the LLM on a QA dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ragtune.cli.config_options import config_options
from ragtune.cli.output import emit_json, err, handle_errors, out
from ragtune.cli.tune import JsonOpt, ProjectOpt, ResumeOpt, quiet_libraries, training_progress
from ragtune.training.config import SFTConfig


def register(tune: typer.Typer) -> None:
    tune.command("sft")(sft)


@handle_errors
@config_options(SFTConfig, "training.sft")
def sft(project: ProjectOpt = Path("."),
        parent: Annotated[str | None, typer.Option("--from", help="Continue training this version's adapter.")]
        = None,
        resume: ResumeOpt = False, as_json: JsonOpt = False, overrides: dict[str, Any] | None = None) -> None:
    """LoRA SFT of the base model on a QA dataset; registers the result as a new model version."""
    from ragtune.config import with_overrides
    from ragtune.project import Project
    from ragtune.training.sft import LoRASFT

    quiet_libraries()
    proj = Project(project)
    config = with_overrides(proj.config.training.sft, overrides or {})
    with training_progress(not as_json) as report:
        result = LoRASFT(proj.training_resources, config).run(resume=resume, parent=parent, on_progress=report)
    if result.version is None:  # not the main process of a multi-process run
        return
    if as_json:
        emit_json(result.to_dict())
        return
    _print_result(result)


def _print_result(result) -> None:
    v, t, m = result.version, result.train, result.version.metrics
    resumed = f" (resumed from step {t['resumed_from']})" if t.get("resumed_from") else ""
    out.print(f"[bold]{v.id}[/] ({v.kind}, {v.status}) trained {t['steps']} steps{resumed} in {t['seconds']:.0f} s, "
              f"{t['tokens_per_s']} tokens/s ({t['precision']}, {t['threads']} threads, batches of {t['batch'][0]} x "
              f"{t['batch'][1]} accumulated)")
    out.print(f"Examples: {result.examples.get('train', 0)} train, {result.examples.get('validation', 0)} "
              f"validation; loss {t['train_loss']} train, {t.get('eval_loss', '-')} validation")
    if "test_token_f1" in m:
        out.print(f"Test split ({m['test_n']} questions, {m['eval_mode'].replace('_', '-')}): token F1 "
                  f"{m['base_token_f1']:.3f} -> {m['test_token_f1']:.3f}, ROUGE-L {m['base_rouge_l']:.3f} -> "
                  f"{m['test_rouge_l']:.3f} (base -> {v.id})")
    if "leakage" in m:
        print_leakage(m["leakage"])
    for w in result.warnings:
        err.print(f"[yellow]warning:[/] {w}", highlight=False)
    out.print(f"Try it: ragtune ask --model {v.id} \"...\"   Promote it: ragtune models promote {v.id}")


def print_leakage(leak: dict[str, Any]) -> None:
    """One line: were test questions near-duplicates of training questions?"""
    verdict = f"[red]FAILED: {leak['n_leaked']} leaked[/]" if leak["n_leaked"] else "[green]passed[/]"
    out.print(f"Leakage check (cosine >= {leak['threshold']}): {verdict}; {leak['n_test']} test questions, "
              f"max similarity to the {leak['n_train']} train questions {leak['max_similarity']}")
