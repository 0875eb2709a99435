"""``ragtune`` commands. Heavy libraries load inside the commands that need them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ragtune.cli.output import emit_json, err, handle_errors, out, progress_bar

app = typer.Typer(help="Domain-specific LLM apps: advanced RAG, small-model fine-tuning, and a measured "
                       "decision between them.", no_args_is_help=True, add_completion=False)

ProjectOpt = Annotated[Path, typer.Option("--project", "-p", help="Project folder (holds ragtune.yaml).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _project(path: Path):
    from ragtune.project import Project

    return Project(path)


@app.command()
@handle_errors
def init(directory: Annotated[Path, typer.Argument(help="Folder to create the project in.")] = Path("."),
         name: Annotated[str | None, typer.Option(help="Project name (default: folder name).")] = None,
         force: Annotated[bool, typer.Option(help="Overwrite an existing ragtune.yaml.")] = False,
         as_json: JsonOpt = False) -> None:
    """Create a project: writes ragtune.yaml and the .ragtune/ work folder."""
    from ragtune.project import Project

    project = Project.init(directory, name=name, force=force)
    if as_json:
        emit_json({"project": str(project.root), "config": str(project.config_path)})
    else:
        out.print(f"Created {project.config_path}")


@app.command()
@handle_errors
def ingest(paths: Annotated[list[Path], typer.Argument(help="Files or folders to index.")],
           project: ProjectOpt = Path("."),
           strict: Annotated[bool, typer.Option(help="Exit non-zero when any file is skipped.")] = False,
           rebuild: Annotated[bool, typer.Option(help="Drop the index and ingest from scratch.")] = False,
           graph: Annotated[bool | None, typer.Option("--graph/--no-graph", help="Also build the knowledge graph "
                                                      "(default: index.graph.build_on_ingest).")] = None,
           as_json: JsonOpt = False) -> None:
    """Load, chunk, embed and index documents (incremental: unchanged files are skipped)."""
    proj = _project(project)
    with progress_bar("Ingesting", enabled=not as_json) as (start, advance):
        report = proj.ingest(paths, rebuild=rebuild, on_start=start, on_file=lambda s, i: advance(s), graph=graph)
    if as_json:
        emit_json(report.to_dict())
    else:
        _print_ingest(report)
    if strict and report.skipped:
        err.print(f"[red]--strict: {len(report.skipped)} file(s) skipped[/]")
        raise typer.Exit(1)


def _print_ingest(report) -> None:
    out.print(
        f"Files: {report.files_seen} seen, {report.files_ingested} ingested, {report.files_unchanged} unchanged, "
        f"{report.files_removed} removed, {len(report.skipped)} skipped"
    )
    note = " (nothing changed)" if report.chunks_added == 0 and report.chunks_removed == 0 else ""
    out.print(f"Chunks: {report.chunks_added} added, {report.chunks_removed} removed, "
              f"{report.chunks_total} in the index{note}  [{report.seconds:.1f} s]")
    for name, cost in report.enrichment.items():
        out.print(f"{name}: {cost['added']} added with {cost['calls']} LLM calls, "
                  f"{cost['prompt_tokens']} + {cost['completion_tokens']} tokens, {cost['seconds']:.1f} s")
    for s in report.skipped:
        err.print(f"[yellow]skipped[/] {s.path}: {s.reason}", highlight=False)


@app.command()
@handle_errors
def ask(question: Annotated[str, typer.Argument(help="The question.")],
        project: ProjectOpt = Path("."),
        top_k: Annotated[int | None, typer.Option("--top-k", "-k", min=1, help="Chunks to retrieve.")] = None,
        filter_: Annotated[list[str] | None, typer.Option("--filter", help="Metadata filter KEY=VALUE "
                                                          "(source takes globs); repeatable.")] = None,
        pipeline: Annotated[str | None, typer.Option("--pipeline", help="Named pipeline or spec such as "
                                                     "hyde+hybrid+llm_rerank (default: retrieval.pipeline).")] = None,
        model: Annotated[str | None, typer.Option("--model", "-m", help="A fine-tuned version (v3, champion; see "
                                                  "`ragtune models list`) or base (default).")] = None,
        as_json: JsonOpt = False) -> None:
    """Answer a question from the indexed documents, with numbered citations."""
    from ragtune.errors import InputError

    filters: dict = {}
    for item in filter_ or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"--filter {item!r}: expected KEY=VALUE")
        filters.setdefault(key, []).append(int(value) if key == "page" and value.isdigit() else value)
    proj = _project(project)
    streamed: list[str] = []

    def on_token(piece: str) -> None:
        streamed.append(piece)
        out.print(piece, end="", highlight=False, markup=False)

    answer = proj.ask(question, top_k=top_k, filters=filters or None, on_token=None if as_json else on_token,
                      pipeline=pipeline, record=True, model=model)
    if as_json:
        emit_json(answer.to_dict())
        return
    if streamed:
        out.print()
        if answer.answer != "".join(streamed).strip():
            out.print(f"[dim]with citations:[/] {answer.answer}", highlight=False)
    else:
        out.print(answer.answer, highlight=False)
    for c in answer.citations:
        page = f", page {c.page}" if c.page is not None else ""
        out.print(f"  [{c.n}] {c.source}{page}  ({c.chunk_id})", highlight=False, markup=False)
    for w in answer.warnings:
        err.print(f"[yellow]warning:[/] {w}", highlight=False)
    unsupported = [c["sentence"] for c in answer.citation_check if not c["supported"]]
    if unsupported:
        err.print(f"[yellow]{len(unsupported)} cited sentence(s) not supported by their passages[/]")
    u = answer.usage
    err.print(f"[dim]{u['prompt_tokens']} prompt + {u['completion_tokens']} completion tokens, "
              f"{answer.latency_s:.2f} s, ${answer.cost_usd:.6f}[/]")
    err.print(f"[dim]answer id {answer.answer_id} (rate it: ragtune feedback add rating {answer.answer_id} up)[/]")


@app.command()
@handle_errors
def demo(directory: Annotated[Path, typer.Argument(help="Folder for the demo project.")] = Path("demo-project"),
         as_json: JsonOpt = False) -> None:
    """Create a project on the bundled contracts, ingest them and answer sample questions."""
    import shutil

    from ragtune.demo import CORPUS, QUESTIONS
    from ragtune.project import Project

    proj = Project(directory) if (directory / "ragtune.yaml").exists() else Project.init(directory, name="demo")
    corpus = proj.root / "corpus"
    if not corpus.exists():
        shutil.copytree(CORPUS, corpus)
    with progress_bar("Ingesting", enabled=not as_json) as (start, advance):
        report = proj.ingest([corpus], on_start=start, on_file=lambda s, i: advance(s))
    answers = []
    for q in QUESTIONS:
        answer = proj.ask(q)
        answers.append(answer.to_dict())
        if not as_json:
            out.rule(q, style="dim")
            out.print(answer.answer, highlight=False)
            for c in answer.citations:
                out.print(f"  [{c.n}] {c.source}  ({c.chunk_id})", highlight=False, markup=False)
    if as_json:
        emit_json({"project": str(proj.root), "ingest": report.to_dict(), "answers": answers})
    else:
        _print_ingest(report)
        out.print(f"Demo project: {proj.root}  (try: ragtune ask -p {directory} \"...\")")


def _register_areas() -> None:
    """Commands of the later stages live in their own modules (data, tune, models, feedback, eval, bench)."""
    from ragtune.cli import bench, data, evaluate, feedback, graph, models, tune

    for module in (data, tune, models, feedback, evaluate, bench, graph):
        module.register(app)


_register_areas()
