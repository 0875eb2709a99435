"""`ragtune tune ...`: fine-tune the LLM (LoRA SFT). Heavy libraries load inside the commands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from ragtune.cli.output import emit_json, err, handle_errors, out

sub = typer.Typer(help="Fine-tune models on a dataset of the project (LoRA SFT).", no_args_is_help=True)

ProjectOpt = Annotated[Path, typer.Option("--project", "-p", help="Project folder (holds ragtune.yaml).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]

_PHASES = {"examples": "Building examples", "train": "Training", "merge": "Merging adapter",
           "export": "Exporting GGUF", "evaluate": "Scoring test split"}


def register(app: typer.Typer) -> None:
    """Add `ragtune tune` to `app`."""
    app.add_typer(sub, name="tune")


def quiet_libraries() -> None:
    """Our progress bars replace the ones of transformers and datasets; their deprecation notes are not for users."""
    import warnings

    import datasets
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    datasets.disable_progress_bars()
    warnings.filterwarnings("ignore", category=FutureWarning)


@contextmanager
def training_progress(enabled: bool) -> Iterator[Any]:
    """Rich progress bars on stderr, one per phase, with loss and learning rate while training."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    if not enabled:
        yield None
        return
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TimeRemainingColumn(), TextColumn("{task.fields[info]}"), console=err) as progress:
        tasks: dict[str, Any] = {}

        def report(phase: str, completed: int, total: int | None, info: dict[str, Any]) -> None:
            if phase not in tasks:
                tasks[phase] = progress.add_task(_PHASES.get(phase, phase), total=total, info="")
            text = "  ".join(f"{k.replace('_', ' ')} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                             for k, v in info.items())
            progress.update(tasks[phase], completed=completed, total=total, info=text)

        yield report


@sub.command("sft")
@handle_errors
def sft(project: ProjectOpt = Path("."),
        dataset: Annotated[str | None, typer.Option(help="Dataset name under .ragtune/datasets/ or a folder with "
                                                    "train/validation/test.jsonl (default: training.sft.dataset).")]
        = None,
        max_steps: Annotated[int | None, typer.Option("--max-steps", min=1, help="Stop after N steps.")] = None,
        epochs: Annotated[float | None, typer.Option(min=0.01, help="Passes over the train split.")] = None,
        rag: Annotated[bool | None, typer.Option("--rag/--no-rag", help="Train on RAG prompts: gold chunks among "
                                                 "retrieved distractors (RAFT).")] = None,
        base_model: Annotated[str | None, typer.Option("--base-model", help="Profile, GGUF file, model folder or "
                                                       "hub id (default: the project's llm.model).")] = None,
        parent: Annotated[str | None, typer.Option("--from", help="Continue training this version's adapter.")]
        = None,
        learning_rate: Annotated[float | None, typer.Option("--learning-rate", "--lr", min=0.0)] = None,
        save_steps: Annotated[int | None, typer.Option("--save-steps", min=1, help="Checkpoint every N steps.")]
        = None,
        evaluate: Annotated[bool | None, typer.Option("--eval/--no-eval", help="Score base and tuned model on the "
                                                      "test split.")] = None,
        resume: Annotated[bool, typer.Option("--resume", help="Continue the last interrupted run from its last "
                                             "checkpoint (with that run's settings and data).")] = False,
        as_json: JsonOpt = False) -> None:
    """LoRA SFT of the base model on a QA dataset; registers the result as a new model version."""
    from ragtune.project import Project
    from ragtune.training.sft import LoRASFT

    quiet_libraries()
    proj = Project(project)
    overrides = {"dataset": dataset, "max_steps": max_steps, "epochs": epochs, "rag": rag, "base_model": base_model,
                 "learning_rate": learning_rate, "save_steps": save_steps, "evaluate": evaluate}
    config = proj.config.training.sft.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    config = type(config).model_validate(config.model_dump())
    with training_progress(not as_json) as report:
        result = LoRASFT(proj, config).run(resume=resume, parent=parent, on_progress=report)
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
              f"{t['tokens_per_s']} tokens/s ({t['precision']}, {t['threads']} threads)")
    out.print(f"Examples: {result.examples.get('train', 0)} train, {result.examples.get('validation', 0)} "
              f"validation; loss {t['train_loss']} train, {t.get('eval_loss', '-')} validation")
    if "test_token_f1" in m:
        out.print(f"Test split ({m['test_n']} questions, {m['eval_mode'].replace('_', '-')}): token F1 "
                  f"{m['base_token_f1']:.3f} -> {m['test_token_f1']:.3f}, ROUGE-L {m['base_rouge_l']:.3f} -> "
                  f"{m['test_rouge_l']:.3f} (base -> {v.id})")
    for w in result.warnings:
        err.print(f"[yellow]warning:[/] {w}", highlight=False)
    out.print(f"Try it: ragtune ask --model {v.id} \"...\"   Promote it: ragtune models promote {v.id}")
