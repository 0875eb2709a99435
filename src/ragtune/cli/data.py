"""``ragtune data``: synthetic QA (synth), user QA (import) and data cards (show). Imports stay light."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ragtune.cli.config_options import config_options
from ragtune.cli.output import emit_json, handle_errors, out, progress_bar
from ragtune.datasets.config import SynthConfig

data_app = typer.Typer(help="QA datasets: synthesise from the documents, import, inspect.", no_args_is_help=True)

ProjectOpt = Annotated[Path, typer.Option("--project", "-p", help="Project folder (holds ragtune.yaml).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
SplitByOpt = Annotated[str | None, typer.Option("--split-by", help="question | document (default: config "
                                                                    "datasets.split.by).")]
SeedOpt = Annotated[int | None, typer.Option(help="Random seed (default: config datasets.synth.seed).")]


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.add_typer(data_app, name="data")


@data_app.command()
@handle_errors
@config_options(SynthConfig, "datasets.synth")
def synth(project: ProjectOpt = Path("."),
          name: Annotated[str, typer.Option(help="Dataset name (folder under .ragtune/datasets/).")] = "synth",
          types: Annotated[str | None, typer.Option(help="Comma-separated question types, e.g. "
                                                         "factual,reasoning,multi_hop,unanswerable,extractive "
                                                         "(default: every type with weight > 0).")] = None,
          split_by: SplitByOpt = None, as_json: JsonOpt = False, overrides: dict[str, Any] | None = None) -> None:
    """Generate QA pairs from the indexed chunks with the project's LLM, rate, deduplicate and split them."""
    from ragtune.config import with_overrides
    from ragtune.project import Project

    chosen = [t.strip() for t in types.split(",") if t.strip()] if types is not None else None
    proj = Project(project)
    datasets = proj.config.datasets
    proj.config.datasets = datasets.model_copy(update={"synth": with_overrides(datasets.synth, overrides or {})})
    with progress_bar("Synthesising", enabled=not as_json) as (start, advance):
        report = proj.synthesize(name=name, types=chosen, split_by=split_by, on_start=start, on_slot=advance)
    print_dataset_report(report.to_dict(), as_json)


@data_app.command("import")
@handle_errors
def import_(file: Annotated[Path, typer.Argument(help="CSV or JSONL file with question and answer columns.")],
            project: ProjectOpt = Path("."),
            name: Annotated[str, typer.Option(help="Dataset name.")] = "imported",
            question_column: Annotated[str, typer.Option(help="Column holding the question.")] = "question",
            answer_column: Annotated[str, typer.Option(help="Column holding the answer.")] = "answer",
            split_by: SplitByOpt = None, seed: SeedOpt = None, as_json: JsonOpt = False) -> None:
    """Import user QA pairs (validated line by line), deduplicate and split them like synthetic ones."""
    from ragtune.project import Project

    report = Project(project).import_qa(file, name=name, question_column=question_column,
                       answer_column=answer_column, split_by=split_by, seed=seed)
    print_dataset_report(report.to_dict(), as_json)


@data_app.command()
@handle_errors
def show(project: ProjectOpt = Path("."),
         name: Annotated[str, typer.Option(help="Dataset name.")] = "synth", as_json: JsonOpt = False) -> None:
    """Print a dataset's card: counts per type and split, sources, rejections, the leakage check."""
    from ragtune.datasets.io import dataset_dir, load_card
    from ragtune.project import Project

    proj = Project(project)
    card = load_card(proj.workdir, name)
    if as_json:
        emit_json({"path": str(dataset_dir(proj.workdir, name)), **card})
    else:
        out.print((dataset_dir(proj.workdir, name) / "card.md").read_text(encoding="utf-8"), markup=False,
                  highlight=False, soft_wrap=True)


def print_dataset_report(report: dict[str, Any], as_json: bool) -> None:
    from ragtune.datasets.card import judge_summary

    if as_json:
        emit_json(report)
        return
    c = report["counts"]
    out.print(f"Dataset {report['name']}: {c['total']} pairs (train {c['train']}, validation {c['validation']}, "
              f"test {c['test']})  [{report['seconds']:.0f} s]  -> {report['path']}", highlight=False)
    if "acceptance_rate" in report:
        a = report["attempts"]
        out.print(f"Rated {a['rated']} drafts, accepted {a['accepted']} ({report['acceptance_rate']:.0%}); "
                  f"generator {report['generator']}; LLM judge {judge_summary(report['judge'])}", highlight=False)
    types = ", ".join(f"{t} {sum(n.values())}" for t, n in report["by_type"].items())
    out.print(f"Types: {types or 'none'}", highlight=False)
    reasons = {**report.get("rejections", {}), **{f"no pair: {r}": n for r, n in report.get("dropped", {}).items()}}
    if reasons:
        out.print("Rejections: " + ", ".join(f"{r} {n}" for r, n in reasons.items()), highlight=False)
    leak = report["leakage"]
    leaked = leak["test"]["n_leaked"] + leak["validation"]["n_leaked"]
    verdict = "[red]FAILED[/]" if leaked else "[green]passed[/]"
    out.print(f"Leakage check (cosine >= {leak['threshold']}): {verdict}; test max similarity to train "
              f"{leak['test']['max_similarity']}, validation {leak['validation']['max_similarity']}; "
              f"{leak['removed']} pair(s) removed", highlight=False)
    for warning in report.get("warnings", []):
        out.print(f"[yellow]Warning:[/] {warning}", highlight=False)

