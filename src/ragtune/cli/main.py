"""``ragtune`` commands. Heavy libraries load inside the commands that need them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ragtune.cli.config_options import config_options
from ragtune.cli.output import emit_json, err, handle_errors, out, progress_bar
from ragtune.config import ScaleConfig
from ragtune.generation.config import AnswerConfig

app = typer.Typer(help="Domain-specific LLM apps: advanced RAG, small-model fine-tuning, and a measured "
                       "decision between them.", no_args_is_help=True, add_completion=False)

ProjectOpt = Annotated[Path, typer.Option("--project", "-p", help="Project folder (holds ragtune.yaml).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
ANSWER = AnswerConfig.model_fields  # `ask --scorer` and `--verdicts` override these


def _project(path: Path):
    from ragtune.project import Project

    return Project(path)


@app.command()
@handle_errors
@config_options(AnswerConfig, "answer", only=("pack",))
def init(directory: Annotated[Path, typer.Argument(help="Folder to create the project in.")] = Path("."),
         name: Annotated[str | None, typer.Option(help="Project name (default: folder name).")] = None,
         force: Annotated[bool, typer.Option(help="Overwrite an existing ragtune.yaml.")] = False,
         as_json: JsonOpt = False, overrides: dict[str, Any] | None = None) -> None:
    """Create a project: writes ragtune.yaml and the .ragtune/ work folder. ``--domain contracts`` (answer.pack)
    selects a domain's answer pack and the retrieval pipeline it was measured with."""
    from ragtune.project import Project

    project = Project.init(directory, name=name, force=force, domain=(overrides or {}).get("pack"))
    if as_json:
        emit_json({"project": str(project.root), "config": str(project.config_path)})
    else:
        out.print(f"Created {project.config_path}")


@app.command()
@handle_errors
@config_options(ScaleConfig, "scale")
def ingest(paths: Annotated[list[Path], typer.Argument(help="Files or folders to index.")],
           project: ProjectOpt = Path("."),
           strict: Annotated[bool, typer.Option(help="Exit non-zero when any file is skipped.")] = False,
           rebuild: Annotated[bool, typer.Option(help="Drop the index and ingest from scratch.")] = False,
           graph: Annotated[bool | None, typer.Option("--graph/--no-graph", help="Also build the knowledge graph "
                                                      "(default: index.graph.build_on_ingest).")] = None,
           as_json: JsonOpt = False, overrides: dict[str, Any] | None = None) -> None:
    """Load, chunk, embed and index documents (incremental: unchanged files are skipped). ``--engine ray``
    spreads the work over Ray Data workers (ragtune[scale])."""
    from ragtune.config import with_overrides

    proj = _project(project)
    proj.config.scale = with_overrides(proj.config.scale, overrides or {})
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
        strategy: Annotated[str | None, typer.Option("--strategy", help="Answer strategy: extract, "
                                                     "extract+generate or generate (default: answer.strategy).")
                            ] = None,
        scorer: Annotated[str | None, typer.Option("--scorer", help=f"{ANSWER['scorer'].description} Default: "
                                                   "answer.scorer.")] = None,
        verdicts: Annotated[str | None, typer.Option("--verdicts", help=f"{ANSWER['verdicts'].description} "
                                                     "Default: answer.verdicts.")] = None,
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
                      pipeline=pipeline, record=True, model=model, strategy=strategy,
                      scorer=scorer, verdicts=verdicts)
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
    if answer.unsupported:
        err.print(f"[yellow]{len(answer.unsupported)} cited sentence(s) not supported by their passages[/]")
    u = answer.usage
    err.print(f"[dim]{u['prompt_tokens']} prompt + {u['completion_tokens']} completion tokens, "
              f"{answer.latency_s:.2f} s, ${answer.cost_usd:.6f}[/]")
    err.print(f"[dim]answer id {answer.answer_id} (rate it: ragtune feedback add rating {answer.answer_id} up)[/]")


@app.command()
@handle_errors
def demo(directory: Annotated[Path, typer.Argument(help="Folder for the demo project.")] = Path("demo-project"),
         limit: Annotated[int | None, typer.Option("--limit", min=1, help="Benchmark the first N test questions "
                                                   "(default: all).")] = None,
         max_steps: Annotated[int | None, typer.Option("--max-steps", min=1, help="Stop SFT after N steps.")] = None,
         epochs: Annotated[float | None, typer.Option(min=0.01, help="SFT passes over the train split.")] = None,
         as_json: JsonOpt = False) -> None:
    """The end-to-end demo on the bundled contracts: ingest, cited answers, synthetic QA, LoRA SFT, and the
    benchmark of base, rag, rag-advanced, sft and rag+sft with an HTML report. Re-running reuses finished steps."""
    from ragtune.cli.bench import print_arms, print_power
    from ragtune.cli.data import print_dataset_report
    from ragtune.cli.tune import quiet_libraries, training_progress
    from ragtune.demo.walkthrough import Demo

    quiet_libraries()
    d = Demo(directory)
    if as_json:
        emit_json(d.run(limit, max_steps, epochs))
        return
    with progress_bar("Ingesting") as (start, advance):
        ingest_report = d.ingest(on_start=start, on_file=lambda s, i: advance(s))
    _print_ingest(ingest_report)
    for a in d.sample_answers():
        out.rule(a.question, style="dim")
        out.print(a.answer, highlight=False)
        for c in a.citations:
            out.print(f"  [{c.n}] {c.source}  ({c.chunk_id})", highlight=False, markup=False)
    with progress_bar("Synthesising QA") as (start, advance):
        data_step, data = d.dataset(on_start=start, on_slot=advance)
    out.rule("Synthetic QA" + (" (reused)" if data_step.reused else ""), style="dim")
    print_dataset_report(data.to_dict(), False)
    with training_progress(True) as report:
        sft_step, version = d.tune(max_steps, epochs, on_progress=report)
    _print_sft(version, sft_step.reused)
    with progress_bar("Benchmarking") as (start, advance):
        results = d.bench(limit, on_start=start, on_answer=advance)
    paths = d.report()
    out.rule("Benchmark", style="dim")
    print_arms(results, ["token_f1", "rouge_l"])
    print_power(results)
    leak = results["leakage"]
    if leak.get("checked"):
        out.print(f"Leakage check: no test question within cosine {leak['threshold']} of the {leak['n_train']} "
                  f"training questions (max {leak['max_similarity']})", highlight=False)
    out.print(f"test_set_sha256: {results['test_set_sha256']}")
    out.print("Seconds per step (this run): " + ", ".join(f"{k} {v:.0f}" for k, v in d.seconds.items()))
    out.print(f"Report: {paths['html']}")
    out.print(f"Demo project: {d.project.root}  (try: ragtune ask -p {directory} --model {version.id} \"...\")")


def _print_sft(version, reused: bool) -> None:
    from ragtune.cli.tune.sft import print_leakage

    m = version.metrics
    out.rule(f"LoRA SFT {version.id}" + (" (reused)" if reused else ""), style="dim")
    out.print(f"{m['examples']['train']} train examples, {m['seconds']:.0f} s training, {m['tokens']} tokens; "
              f"loss {m['train_loss']} train, {m.get('eval_loss', '-')} validation", highlight=False)
    if "test_token_f1" in m:
        out.print(f"Test split ({m['test_n']} questions, {m['eval_mode'].replace('_', '-')}): token F1 "
                  f"{m['base_token_f1']:.3f} -> {m['test_token_f1']:.3f}, ROUGE-L {m['base_rouge_l']:.3f} -> "
                  f"{m['test_rouge_l']:.3f} (base -> {version.id})", highlight=False)
    if "leakage" in m:
        print_leakage(m["leakage"])


def _register_areas() -> None:
    """Commands of the later stages live in their own modules (data, tune, models, feedback, eval, bench, graph,
    serve, db)."""
    from ragtune.cli import bench, data, db, evaluate, feedback, graph, models, serve, tune

    for module in (data, tune, models, feedback, evaluate, bench, graph, serve, db):
        module.register(app)


_register_areas()
