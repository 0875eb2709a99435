"""`ragtune tune embedder` and `ragtune tune reranker`: the retrieval models, on question-passage pairs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from ragtune.cli.config_options import config_options
from ragtune.cli.output import emit_json, handle_errors, out
from ragtune.cli.tune import JsonOpt, ProjectOpt, quiet_libraries, training_progress
from ragtune.training.config import EmbedderTuneConfig, RerankerTuneConfig


def register(tune: typer.Typer) -> None:
    tune.command("embedder")(embedder)
    tune.command("reranker")(reranker)


def _retrieval(kind: str, project: Path, as_json: bool, overrides: dict[str, Any]) -> None:
    from ragtune.config import with_overrides
    from ragtune.project import Project
    from ragtune.training.embedder import EmbedderTuner
    from ragtune.training.reranker import RerankerTuner

    quiet_libraries()
    proj = Project(project)
    config = with_overrides(getattr(proj.config.training, kind), overrides)
    tuner = {"embedder": EmbedderTuner, "reranker": RerankerTuner}[kind]
    with training_progress(not as_json) as report:
        result = tuner(proj.training_resources, config).run(on_progress=report)
    if as_json:
        emit_json(result.to_dict())
        return
    v, t, d, e = result.version, result.train, result.data, result.evaluation
    out.print(f"[bold]{v.id}[/] ({v.kind}, {v.status}) trained {t['steps']} steps on {t['examples']} examples "
              f"({d['train_pairs']} question-passage pairs of {d['train_queries']} questions) in {t['seconds']:.0f} s"
              f"; loss {t['train_loss']}")
    if e:
        first = "the base model" if kind == "embedder" else "BM25"
        out.print(f"Validation split ({e['queries']} questions): nDCG@10 {e['before']:.3f} ({first}) -> "
                  f"{e['after']:.3f} ({v.id})")
    if kind == "embedder":
        out.print(f"Use it: `embedder.model: {v.id}` in ragtune.yaml, then `ragtune ingest --rebuild`; compare: "
                  f"ragtune eval retrieval --data DIR --embedder {v.id}   Promote it: ragtune models promote {v.id}")
    else:
        out.print(f"Use it: ragtune models promote {v.id}, then --pipeline hybrid+rerank (or a pipeline with "
                  f"{{name: rerank, model: {v.id}}})")


@handle_errors
@config_options(EmbedderTuneConfig, "training.embedder")
def embedder(project: ProjectOpt = Path("."), as_json: JsonOpt = False,
             overrides: dict[str, Any] | None = None) -> None:
    """Domain-adapt the embedder (sentence-transformers, in-batch + mined hard negatives); registers an
    embedder version."""
    _retrieval("embedder", project, as_json, overrides or {})


@handle_errors
@config_options(RerankerTuneConfig, "training.reranker")
def reranker(project: ProjectOpt = Path("."), as_json: JsonOpt = False,
             overrides: dict[str, Any] | None = None) -> None:
    """Train a cross-encoder reranker from the embedder's MiniLM weights (BCE on positives and mined
    negatives); registers a reranker version."""
    _retrieval("reranker", project, as_json, overrides or {})
