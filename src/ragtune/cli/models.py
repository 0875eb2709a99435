"""`ragtune models ...`: the model registry (list, promote, reject, rollback, export)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ragtune.cli.output import emit_json, handle_errors, out

sub = typer.Typer(help="Fine-tuned model versions: list, promote, roll back, export.", no_args_is_help=True)

ProjectOpt = Annotated[Path, typer.Option("--project", "-p", help="Project folder (holds ragtune.yaml).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
_SHOWN = ("test_token_f1", "test_rouge_l", "base_token_f1", "base_rouge_l", "eval_loss")


def register(app: typer.Typer) -> None:
    """Add `ragtune models` to `app`."""
    app.add_typer(sub, name="models")


def _registry(project: Path):
    from ragtune.project import Project

    return Project(project).registry


def _row(v) -> dict:
    return {"id": v.id, "parent": v.parent, "kind": v.kind, "status": v.status, "metrics": v.metrics,
            "created": v.created, "path": v.path}


@sub.command("list")
@handle_errors
def list_(project: ProjectOpt = Path("."),
          kind: Annotated[str | None, typer.Option(help="Only this kind or role (sft, dpo, llm, embedder...).")]
          = None,
          as_json: JsonOpt = False) -> None:
    """Every version with its parent, kind, status, metrics and creation time."""
    from rich.table import Table

    versions = _registry(project).list(kind)
    if as_json:
        emit_json([_row(v) for v in versions])
        return
    if not versions:
        out.print("No model versions yet: train one with `ragtune tune sft`.")
        return
    table = Table("id", "parent", "kind", "status", *(k.replace("_", " ") for k in _SHOWN), "created")
    style = {"champion": "bold green", "rejected": "dim"}
    for v in versions:
        metrics = [f"{v.metrics[k]:.3f}" if isinstance(v.metrics.get(k), float) else "-" for k in _SHOWN]
        table.add_row(v.id, v.parent or "-", v.kind, v.status, *metrics, v.created, style=style.get(v.status))
    out.print(table)


@sub.command()
@handle_errors
def promote(version: Annotated[str, typer.Argument(help="Version id, e.g. v3.")],
            project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Make a version the champion of its role (the previous champion becomes a candidate)."""
    v = _registry(project).promote(version)
    if as_json:
        emit_json(_row(v))
    else:
        out.print(f"{v.id} is now the {v.role} champion")


@sub.command()
@handle_errors
def reject(version: Annotated[str, typer.Argument(help="Version id.")],
           project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Mark a candidate version rejected."""
    v = _registry(project).reject(version)
    if as_json:
        emit_json(_row(v))
    else:
        out.print(f"{v.id} rejected")


@sub.command()
@handle_errors
def rollback(version: Annotated[str | None, typer.Argument(help="Version to restore (default: the champion "
                                                           "before the current one).")] = None,
             role: Annotated[str, typer.Option(help="llm, embedder, reranker, verdicts or scorer.")] = "llm",
             project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Restore an earlier version as champion."""
    v = _registry(project).rollback(version, role)
    if as_json:
        emit_json(_row(v))
    else:
        out.print(f"rolled back: {v.id} is the {v.role} champion again")


@sub.command()
@handle_errors
def export(version: Annotated[str, typer.Argument(help="Version id.")],
           format_: Annotated[str, typer.Option("--format", "-f", help="lora: GGUF LoRA adapter for the base GGUF; "
                                                "gguf: merged model as one f16 GGUF; merged: safetensors folder.")]
           = "gguf",
           dest: Annotated[Path | None, typer.Option("--out", "-o", help="Copy the result here.")] = None,
           project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Export a fine-tuned LLM version for llama.cpp, Ollama, transformers or vLLM."""
    from ragtune.cli.tune import quiet_libraries
    from ragtune.project import Project
    from ragtune.training.export import export_version

    quiet_libraries()
    path = export_version(Project(project).registry, version, format_, dest)
    if as_json:
        emit_json({"version": version, "format": format_, "path": str(path)})
    else:
        out.print(str(path))
