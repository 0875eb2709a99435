"""`ragtune eval`: retrieval evaluation on BEIR folders, and the CUAD -> BEIR converter."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ragtune.cli.output import emit_json, handle_errors, out, progress_bar

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
DEFAULT_PIPELINES = ["bm25", "dense", "hybrid"]

sub = typer.Typer(help="Evaluate retrieval on BEIR-format data; build evaluation sets.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the ``eval`` command group to `app`."""
    app.add_typer(sub, name="eval")


@sub.command("retrieval")
@handle_errors
def retrieval(
    data: Annotated[Path, typer.Option("--data", help="BEIR folder: corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv.")],
    pipeline: Annotated[list[str] | None, typer.Option(
        "--pipeline", help="Pipeline name from ragtune.yaml or a spec such as hybrid+mmr or hybrid+rerank (the "
                           "project's champion reranker); repeatable (default: bm25, dense, hybrid).")] = None,
    project: Annotated[Path, typer.Option("--project", "-p", help="Project whose ragtune.yaml gives the chunker, "
                                          "embedder, retrieval settings and named pipelines (default settings "
                                          "when it has none); its .ragtune/eval/ holds the index, its model "
                                          "registry resolves version ids.")] = Path("."),
    split: Annotated[str, typer.Option(help="Which qrels/<split>.tsv to evaluate on.")] = "test",
    limit: Annotated[int | None, typer.Option(min=1, help="Evaluate only the first N judged queries.")] = None,
    depth: Annotated[int, typer.Option(min=10, help="Corpus records ranked per query.")] = 100,
    embedder: Annotated[str | None, typer.Option(
        "--embedder", help="Index and search with this embedder: a registry version id (`ragtune tune embedder`), "
                           "champion, package or folder (default: the project's embedder.model).")] = None,
    per_query: Annotated[bool, typer.Option("--per-query", help="With --json: per-query metrics too.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """nDCG@10, Recall@10/100, MRR@10, MAP and per-stage latency, one row per pipeline (indexes the corpus
    once, cached by its content hash and the chunker/embedder settings)."""
    from ragtune.config import CONFIG_FILE
    from ragtune.evaluation.retrieval import RetrievalReport
    from ragtune.project import ProjectConfig, retrieval_evaluation

    has_config = (project / CONFIG_FILE).is_file()
    config = ProjectConfig.load(project / CONFIG_FILE) if has_config else ProjectConfig()
    if embedder:
        config = config.model_copy(update={"embedder": config.embedder.model_copy(update={"model": embedder})})
    cache = project.resolve() / ".ragtune" / "eval" / "beir" if has_config else None
    ev = retrieval_evaluation(data, config, project.resolve() / ".ragtune", split=split, limit=limit, depth=depth,
                              cache_dir=cache)
    try:
        with progress_bar("Indexing", enabled=not as_json) as (start, advance):
            info = ev.index(on_start=start, on_item=advance)
        results = []
        for name in pipeline or DEFAULT_PIPELINES:
            with progress_bar(name, enabled=not as_json) as (start, advance):
                results.append(ev.run(name, on_start=start, on_item=advance))
    finally:
        ev.close()
    report = RetrievalReport(str(data), split, len(ev.dataset.queries), info, results)
    if as_json:
        emit_json(report.to_dict(per_query=per_query))
    else:
        print_table(report)


def print_table(report) -> None:
    """The metrics table; span metrics (when the data has gold spans) and per-stage latency below it."""
    from rich.table import Table

    table = Table(title=f"{report.data} ({report.split}: {report.queries} queries, {report.index.documents} "
                        f"documents, {report.index.chunks} chunks)")
    for column in ["pipeline", "nDCG@10", "R@10", "R@100", "MRR@10", "MAP", "p50 ms"]:
        table.add_column(column, justify="left" if column == "pipeline" else "right")
    for r in report.results:
        values = [f"{r.metrics[m]:.3f}" for m in ["ndcg@10", "recall@10", "recall@100", "mrr@10", "map"]]
        table.add_row(r.pipeline, *values, f"{r.latency_ms_p50:g}")
    out.print(table)
    spans = [k for k in report.results[0].metrics if k.startswith("span_")] if report.results else []
    if spans:
        table = Table(title="span-level: share of retrieved characters in gold spans (P), of gold characters "
                            "retrieved (R), at k chunks")
        table.add_column("pipeline")
        for k in spans:
            name, _, cut = k.partition("@")
            table.add_column(f"{'P' if name == 'span_precision' else 'R'}@{cut}", justify="right")
        for r in report.results:
            table.add_row(r.pipeline, *[f"{r.metrics[k]:.3f}" for k in spans])
        out.print(table)
    for c in report.comparisons:
        out.print(f"{c.a} vs {c.b}: {c.metric} {c.diff:+.3f} [95% CI {c.ci_low:+.3f}, {c.ci_high:+.3f}], "
                  f"p = {c.p_holm:.3g} (paired permutation, Holm){' *' if c.significant else ''}", highlight=False)
    for r in report.results:
        stages = ", ".join(f"{s} {ms:g}" for s, ms in r.stage_ms_p50.items())
        out.print(f"[dim]{r.pipeline}: stages p50 ms: {stages}[/]", highlight=False)
    if report.index.documents_indexed:
        out.print(f"[dim]indexed {report.index.documents_indexed} documents in {report.index.seconds:.1f} s "
                  f"into {report.index.path}[/]", highlight=False)


@sub.command("build-cuad")
@handle_errors
def build_cuad(
    src: Annotated[Path, typer.Argument(help="CUAD-format folder: qa.jsonl and the contract texts it names.")],
    out_dir: Annotated[Path, typer.Argument(metavar="OUT", help="Folder to write the BEIR set to.")],
    passage_tokens: Annotated[int, typer.Option(min=16, help="Maximum tokens per corpus passage.")] = 128,
    test_fraction: Annotated[float, typer.Option(min=0.01, max=0.99, help="Share of contracts held out for "
                                                                           "the test split.")] = 1 / 3,
    as_json: JsonOpt = False,
) -> None:
    """Convert CUAD (contracts + gold clauses) into a BEIR retrieval set with gold spans and a split by contract."""
    from ragtune.datasets.cuad import cuad_to_beir

    with progress_bar("Converting", enabled=not as_json) as (start, advance):
        result = cuad_to_beir(src, out_dir, passage_tokens, test_fraction, on_start=start, on_contract=advance)
    if as_json:
        emit_json(result.to_dict())
        return
    out.print(f"{result.contracts} contracts -> {result.passages} passages; {result.queries} questions "
              f"({result.train_queries} train, {result.test_queries} test); {result.spans_located} gold spans "
              f"located, {result.spans_not_found} not found. Written to {result.out}")
