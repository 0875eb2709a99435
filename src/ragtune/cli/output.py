"""Shared CLI plumbing: JSON output, error handling, progress bars."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console

err = Console(stderr=True)
out = Console()


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def handle_errors(fn: Callable) -> Callable:
    """Print user errors as one clear line and exit 1, instead of a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from ragtune.errors import RagtuneError

        try:
            return fn(*args, **kwargs)
        except RagtuneError as e:
            err.print(f"[bold red]error:[/] {e}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err.print("[yellow]interrupted[/]")
            raise typer.Exit(130) from None

    return wrapper


@contextmanager
def progress_bar(description: str, enabled: bool = True):
    """A rich progress bar on stderr; yields (start(total), advance(label)) callbacks."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    if not enabled:
        yield (lambda total: None), (lambda label="": None)
        return
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TextColumn("{task.fields[label]}"), console=err, transient=False) as p:
        task = p.add_task(description, total=None, label="")

        def start(total: int) -> None:
            p.update(task, total=total)

        def advance(label: str = "") -> None:
            p.update(task, advance=1, label=label[-60:])

        yield start, advance
