"""`ragtune tune ...`: fine-tune models, one module per command group: ``sft``, ``preference`` (dpo, kto),
``judge`` (judge, agreement), ``loop``, ``retrieval`` (embedder, reranker), ``verdicts``, ``reader``,
``expressions``. Their options are generated from the training config sections (``ragtune.cli.config_options``);
heavy libraries load inside the commands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from ragtune.cli.output import err

sub = typer.Typer(help="Fine-tune models: LoRA SFT on a dataset, DPO/KTO on feedback, AI feedback (judge), the "
                       "continuous loop; the embedder and a cross-encoder reranker on question-passage pairs; the "
                       "reader's yes/no verdicts and sentence scorer, gated on held-out documents; the expression "
                       "writer.",
                  no_args_is_help=True)

ProjectOpt = Annotated[Path, typer.Option("--project", "-p", help="Project folder (holds ragtune.yaml).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
ParentOpt = Annotated[str, typer.Option("--from", help="Start from this version: champion (default; the base "
                                        "model when there is none), base, or a version id.")]
ResumeOpt = Annotated[bool, typer.Option("--resume", help="Continue the last interrupted run from its last "
                                         "checkpoint (with that run's settings and data).")]

_PHASES = {"examples": "Building examples", "train": "Training", "merge": "Merging adapter",
           "export": "Exporting GGUF", "evaluate": "Scoring test split", "wait": "Waiting for feedback",
           "mine": "Mining hard negatives"}


def register(app: typer.Typer) -> None:
    """Add `ragtune tune` and its commands to `app`."""
    from ragtune.cli.tune import expressions, judge, loop, preference, reader, retrieval, sft, verdicts

    for module in (sft, preference, judge, loop, retrieval, verdicts, reader, expressions):
        module.register(sub)
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
