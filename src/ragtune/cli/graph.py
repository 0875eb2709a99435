"""``ragtune graph build|show|ask`` (knowledge graph) and ``ragtune compare`` (multi-document analysis).
Keep imports here light."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ragtune.cli.output import emit_json, err, handle_errors, out, progress_bar

if TYPE_CHECKING:
    from ragtune.generation.compare import Comparison

ProjectOpt = Annotated[Path, typer.Option("--project", "-p", help="Project folder (holds ragtune.yaml).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]

graph_app = typer.Typer(help="Knowledge graph: build it, view it, ask corpus-wide questions.", no_args_is_help=True)


def _project(path: Path):
    from ragtune.project import Project

    return Project(path)


def print_build(report) -> None:
    c = report.cost
    out.print(f"Graph: {report.entities} entities, {report.relations} relations over {report.documents} documents "
              f"({report.chunks} chunks); {report.cross_document_entities} entities shared by documents, "
              f"{report.merged} duplicates merged, {report.communities} communities  [{report.seconds:.1f} s]")
    out.print(f"Extractor {report.extractor}: {c.calls} LLM calls, {c.prompt_tokens} + {c.completion_tokens} tokens, "
              f"{c.seconds:.1f} s LLM time; {c.cached} chunks from cache, {c.repaired} replies repaired, "
              f"{c.retried} retries, {c.degraded} chunks degraded to rules")
    for w in c.warnings:
        err.print(f"[yellow]warning:[/] {w}", highlight=False)
    out.print(f"Saved {report.path}", highlight=False)


@graph_app.command("build")
@handle_errors
def build(extractor: Annotated[str | None, typer.Option("--extractor", help="rules (no LLM, no domain rule), "
                                                        "contracts (the contracts pack's rules) or llm "
                                                        "(default: index.graph.extractor).")] = None,
          project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Extract entities and relations from every chunk, merge duplicates, detect communities, save the graph."""
    proj = _project(project)
    with progress_bar("Extracting", enabled=not as_json) as (start, advance):
        report = proj.build_graph(extractor, on_start=start, on_chunk=advance)
    if as_json:
        emit_json({**report.to_dict(), "stats": proj.graph.stats()})
    else:
        print_build(report)


@graph_app.command("show")
@handle_errors
def show(out_path: Annotated[Path, typer.Option("--out", "-o", help="HTML file to write.")] = Path("graph.html"),
         max_nodes: Annotated[int, typer.Option("--max-nodes", min=1, help="Draw at most this many nodes "
                                                "(documents and the best-connected entities).")] = 400,
         project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Write a self-contained HTML view of the graph (works offline: no external scripts)."""
    from ragtune.index.graph.html import write_html

    proj = _project(project)
    path = write_html(proj.graph, out_path, f"Knowledge graph: {proj.config.name}", max_nodes)
    if as_json:
        emit_json({"html": str(path.resolve()), **proj.graph.stats()})
    else:
        out.print(f"Wrote {path}", highlight=False)


@graph_app.command("ask")
@handle_errors
def ask_global(question: Annotated[str, typer.Argument(help="A corpus-wide question.")],
               strategy: Annotated[str | None, typer.Option("--strategy", help="Final answer: generate (the LLM "
                                                            "reduces the notes), extract or extract+generate (quote "
                                                            "the best note and fact sentences). Default: "
                                                            "answer.strategy.")] = None,
               project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Global search: community summaries (cached) -> a note per relevant community -> one cited answer."""
    answer = _project(project).ask_global(question, strategy)
    if as_json:
        emit_json(answer.to_dict())
        return
    out.print(answer.answer, highlight=False)
    for c in answer.citations:
        out.print(f"  [{c['n']}] community {c['community']} ({c['title']}): {', '.join(c['documents'])}",
                  highlight=False, markup=False)
    if answer.facts:
        out.print("Facts from the graph closest to the question:")
    for f in answer.facts:
        out.print(f"  - {f['text']}  ({', '.join(f['chunk_ids'][:3])})", highlight=False, markup=False)
    for w in answer.warnings:
        err.print(f"[yellow]warning:[/] {w}", highlight=False)
    u = answer.usage
    err.print(f"[dim]{len(answer.communities)} communities mapped; {u['prompt_tokens']} prompt + "
              f"{u['completion_tokens']} completion tokens, {answer.latency_s:.2f} s, ${answer.cost_usd:.6f}[/]")


@handle_errors
def compare(aspect: Annotated[str, typer.Argument(help='What to compare, e.g. "termination clauses".')],
            docs: Annotated[list[str] | None, typer.Option("--docs", help="Documents to compare (globs on the "
                                                           "source path or file name); repeatable. Default: all.")
                            ] = None,
            top_k: Annotated[int | None, typer.Option("--top-k", "-k", min=1, help="Chunks per document "
                                                      "(default: compare.top_k).")] = None,
            pipeline: Annotated[str | None, typer.Option("--pipeline", help="Retrieval pipeline per document.")] = None,
            strategy: Annotated[str | None, typer.Option("--strategy", help="Answer strategy per document: extract, "
                                                         "extract+generate (quote the clause) or generate (LLM "
                                                         "summary). Default: compare.strategy, else "
                                                         "answer.strategy.")] = None,
            markdown: Annotated[Path | None, typer.Option("--markdown", help="Also write the comparison as "
                                                          "Markdown to this file.")] = None,
            project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Compare documents on one aspect: a cited answer per document (map), a table and a synthesis (reduce)."""
    proj = _project(project)
    with progress_bar("Comparing", enabled=not as_json) as (start, advance):
        result = proj.compare(aspect, docs, top_k, pipeline, on_start=start, on_document=advance, strategy=strategy)
    if markdown:
        markdown.write_text(result.to_markdown(), encoding="utf-8")
    if as_json:
        emit_json(result.to_dict())
        return
    print_comparison(result)
    for w in result.warnings:
        err.print(f"[yellow]warning:[/] {w}", highlight=False)
    u = result.usage
    err.print(f"[dim]{len(result.rows)} documents; {u['prompt_tokens']} prompt + {u['completion_tokens']} completion "
              f"tokens, {result.latency_s:.2f} s, ${result.cost_usd:.6f}[/]")


TABLE_WIDTH = 140
"""Terminals at least this wide show a comparison as a table; narrower ones as a list, one document after the
other (five columns at 80 wrap each summary into a strip a few words wide)."""


def print_comparison(result: Comparison) -> None:
    """A Comparison's rows (a table or a list, by the terminal's width) and its synthesis."""
    from rich.markup import escape
    from rich.padding import Padding
    from rich.table import Table

    from ragtune.generation.compare import DEGRADED

    title = f"Comparison: {result.aspect} ({result.strategy})"
    if out.width >= TABLE_WIDTH:
        table = Table(title=title, show_lines=True)
        for col in ("#", "document", "summary", "key terms", "cites"):
            table.add_column(col, overflow="fold")
        for r in result.rows:
            cites = "\n".join(f"[{c.n}] {c.chunk_id}" for c in r.citations) or "-"
            flag = f"\n({r.method})" if r.method in DEGRADED else ""
            table.add_row(str(r.n), escape(r.title), escape(r.summary) + flag, escape("\n".join(r.key_terms)) or "-",
                          cites)
        out.print(table)
    else:
        out.print(f"[bold]{escape(title)}[/]", highlight=False)
        for r in result.rows:
            flag = f" ({r.method})" if r.method in DEGRADED else ""
            lines = [escape(r.summary) + flag]
            if r.key_terms:
                lines.append(f"[dim]key terms:[/] {escape('; '.join(r.key_terms))}")
            lines.append(f"[dim]cites:[/] {escape(', '.join(f'[{c.n}] {c.chunk_id}' for c in r.citations) or '-')}")
            out.print(f"\n[bold]{r.n}. {escape(r.title)}[/]", highlight=False)
            out.print(Padding("\n".join(lines), (0, 0, 0, 3)), highlight=False)
        out.print()
    out.print(f"[bold]Synthesis[/] ({result.synthesis_method}; \\[n] = row n): {escape(result.synthesis)}",
              highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``graph`` (a command group) and ``compare`` to ``app``."""
    app.add_typer(graph_app, name="graph")
    app.command("compare")(compare)
