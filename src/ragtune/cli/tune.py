"""`ragtune tune ...`: fine-tune the LLM (LoRA SFT). Heavy libraries load inside the commands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from ragtune.cli.output import emit_json, err, handle_errors, out, progress_bar

sub = typer.Typer(help="Fine-tune models: LoRA SFT on a dataset, DPO/KTO on feedback, AI feedback (judge), the "
                       "continuous loop; the embedder and a cross-encoder reranker on question-passage pairs.",
                  no_args_is_help=True)

ProjectOpt = Annotated[Path, typer.Option("--project", "-p", help="Project folder (holds ragtune.yaml).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]

_PHASES = {"examples": "Building examples", "train": "Training", "merge": "Merging adapter",
           "export": "Exporting GGUF", "evaluate": "Scoring test split", "wait": "Waiting for feedback",
           "mine": "Mining hard negatives"}


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
    if "leakage" in m:
        print_leakage(m["leakage"])
    for w in result.warnings:
        err.print(f"[yellow]warning:[/] {w}", highlight=False)
    out.print(f"Try it: ragtune ask --model {v.id} \"...\"   Promote it: ragtune models promote {v.id}")


def print_leakage(leak: dict[str, Any]) -> None:
    """One line: were test questions near-duplicates of training questions?"""
    verdict = f"[red]FAILED: {leak['n_leaked']} leaked[/]" if leak["n_leaked"] else "[green]passed[/]"
    out.print(f"Leakage check (cosine >= {leak['threshold']}): {verdict}; {leak['n_test']} test questions, "
              f"max similarity to the {leak['n_train']} train questions {leak['max_similarity']}")


# preference tuning, AI feedback and the continuous loop ------------------------------------------------------

StepsOpt = Annotated[int | None, typer.Option("--max-steps", min=1, help="Stop after N optimizer steps.")]
EpochsOpt = Annotated[float | None, typer.Option(min=0.01, help="Passes over the training rows.")]


def _preference(kind: str, project: Path, max_steps: int | None, epochs: float | None, parent: str,
                source: str | None, learning_rate: float | None, evaluate: bool | None, resume: bool,
                as_json: bool) -> None:
    from ragtune.project import Project
    from ragtune.training.dpo import DPO
    from ragtune.training.kto import KTO

    quiet_libraries()
    proj = Project(project)
    overrides = {"max_steps": max_steps, "epochs": epochs, "source": source, "learning_rate": learning_rate,
                 "evaluate": evaluate}
    config = getattr(proj.config.training, kind)
    config = type(config).model_validate(config.model_dump() | {k: v for k, v in overrides.items() if v is not None})
    with training_progress(not as_json) as report:
        result = {"dpo": DPO, "kto": KTO}[kind](proj, config).run(parent=parent, resume=resume, on_progress=report)
    if as_json:
        emit_json(result.to_dict())
        return
    v, t = result.version, result.train
    rewards = "  ".join(f"{k} {t[k]:.4g}" for k in ("rewards/accuracies", "rewards/margins", "kl") if k in t)
    out.print(f"[bold]{v.id}[/] ({v.kind} from {v.parent or 'the base model'}, {v.status}) trained {t['steps']} "
              f"steps on {result.examples} rows in {t['seconds']:.0f} s; loss {t['train_loss']}  {rewards}")
    m = v.metrics
    if "test_token_f1" in m:
        out.print(f"Test split ({m['test_n']} questions): token F1 {m['base_token_f1']:.3f} -> {m['test_token_f1']:.3f}"
                  f", ROUGE-L {m['base_rouge_l']:.3f} -> {m['test_rouge_l']:.3f} (base -> {v.id})")
    for w in result.warnings:
        err.print(f"[yellow]warning:[/] {w}", highlight=False)
    out.print(f"Try it: ragtune ask --model {v.id} \"...\"   Promote it: ragtune models promote {v.id}")


ParentOpt = Annotated[str, typer.Option("--from", help="Start from this version: champion (default; the base "
                                        "model when there is none), base, or a version id.")]
SourceOpt = Annotated[Literal["human", "ai"] | None, typer.Option("--source", help="Only human or only ai "
                                                                  "feedback (default both).")]
LrOpt = Annotated[float | None, typer.Option("--learning-rate", "--lr", min=0.0)]
EvalOpt = Annotated[bool | None, typer.Option("--eval/--no-eval", help="Score base and tuned model on the test "
                                              "split of training.sft.dataset.")]
ResumeOpt = Annotated[bool, typer.Option("--resume", help="Continue the last interrupted run from its last "
                                         "checkpoint (with that run's settings and data).")]


@sub.command("dpo")
@handle_errors
def dpo(project: ProjectOpt = Path("."), max_steps: StepsOpt = None, epochs: EpochsOpt = None,
        parent: ParentOpt = "champion", source: SourceOpt = None, learning_rate: LrOpt = None,
        evaluate: EvalOpt = None, resume: ResumeOpt = False, as_json: JsonOpt = False) -> None:
    """DPO (LoRA) on the feedback store's preference pairs; registers a dpo version."""
    _preference("dpo", project, max_steps, epochs, parent, source, learning_rate, evaluate, resume, as_json)


@sub.command("kto")
@handle_errors
def kto(project: ProjectOpt = Path("."), max_steps: StepsOpt = None, epochs: EpochsOpt = None,
        parent: ParentOpt = "champion", source: SourceOpt = None, learning_rate: LrOpt = None,
        evaluate: EvalOpt = None, resume: ResumeOpt = False, as_json: JsonOpt = False) -> None:
    """KTO (LoRA) on answers the feedback store labels good or bad; registers a kto version."""
    _preference("kto", project, max_steps, epochs, parent, source, learning_rate, evaluate, resume, as_json)


def _print_agreement(a: dict) -> None:
    if not a["n"]:
        out.print(f"Agreement with human votes: no pair judged by both ({a['human_pairs']} human, {a['ai_pairs']} "
                  "AI pairs)")
        return
    kappa = "n/a" if a["kappa"] is None else f"{a['kappa']:.3f}"
    out.print(f"Agreement with human votes on {a['n']} pairs: {a['agree']}/{a['n']} ({a['agreement']:.0%}), "
              f"Cohen's kappa {kappa}")
    for human, row in a["confusion"].items():
        out.print(f"  human {human:>3}: " + "  ".join(f"ai {k} {n}" for k, n in row.items()), highlight=False)


def _pair(text: str) -> tuple[int, int]:
    from ragtune.errors import InputError

    a, _, b = (x.strip() for x in text.partition(","))
    if not (a.isdigit() and b.isdigit()):
        raise InputError(f"--pair {text!r}: expected two answer ids as A,B")
    return int(a), int(b)


@sub.command("judge")
@handle_errors
def judge(project: ProjectOpt = Path("."),
          pair: Annotated[list[str] | None, typer.Option("--pair", help="Judge these two answer ids, as A,B "
                                                         "(repeatable; default: every unjudged pair).")] = None,
          limit: Annotated[int | None, typer.Option(min=1, help="Judge at most N pairs.")] = None,
          references: Annotated[str | None, typer.Option(help="QA dataset whose train/validation answers are the "
                                                         "judge's references.")] = "synth",
          as_json: JsonOpt = False) -> None:
    """AI feedback: an LLM judge (bench.judge) compares answers to the same question, in both orders; the
    verdicts are stored as AI preferences. Prints the agreement with human votes."""
    from ragtune.project import Project
    from ragtune.training.judge import judge_pairs

    pairs = [_pair(p) for p in pair] if pair else None
    with progress_bar("Judging", enabled=not as_json) as (start, advance):
        report = judge_pairs(Project(project), pairs, limit, references, on_start=start, on_pair=advance)
    if as_json:
        emit_json(report.to_dict())
        return
    s, p = report.status, report.preferred
    out.print(f"Judged {report.pairs} pair(s) with {report.judge_model} ({report.with_reference} with a reference): "
              f"a {p['a']}, b {p['b']}, tie {p['tie']}; consistent in both orders {s['consistent']}, inconsistent "
              f"{s['inconsistent']}, unparseable {s['unparseable']} (both counted as ties)")
    _print_agreement(report.agreement)


@sub.command("agreement")
@handle_errors
def agreement(project: ProjectOpt = Path("."),
              judge_model: Annotated[str | None, typer.Option("--judge-model", help="Only this judge's verdicts "
                                                              "(default: all AI preferences).")] = None,
              as_json: JsonOpt = False) -> None:
    """Agreement of AI preferences with human votes on the answer pairs both judged (Cohen's kappa)."""
    from ragtune.project import Project
    from ragtune.training.judge import judge_agreement

    result = judge_agreement(Project(project).feedback, judge_model)
    if as_json:
        emit_json(result)
    else:
        _print_agreement(result)


@sub.command("loop")
@handle_errors
def loop(project: ProjectOpt = Path("."),
         rounds: Annotated[int, typer.Option(min=1, help="Rounds to run (stops early without new feedback).")] = 3,
         max_steps: StepsOpt = None, epochs: EpochsOpt = None,
         wait: Annotated[float | None, typer.Option(min=0, help="Seconds a round waits for new feedback "
                                                    "(default: training.loop.wait_s).")] = None,
         history: Annotated[bool, typer.Option("--history", help="Print the recorded rounds and exit.")] = False,
         as_json: JsonOpt = False) -> None:
    """Feedback -> data -> train from the champion -> evaluate on the frozen held-out set -> promote only if the
    paired bootstrap interval of the gain excludes 0, else keep the champion. Every round is recorded."""
    from ragtune.project import Project
    from ragtune.training.loop import FeedbackLoop

    quiet_libraries()
    proj = Project(project)
    config = proj.config.training.loop
    if wait is not None:
        config = config.model_copy(update={"wait_s": wait})
    runner = FeedbackLoop(proj, config, max_steps=max_steps, epochs=epochs)
    if history:
        state = runner.history()
        if as_json:
            emit_json(state)
            return
        for record in state["rounds"]:
            _print_round(record)
        if not state["rounds"]:
            out.print("No loop rounds yet: run `ragtune tune loop` once there is feedback.")
        return
    with training_progress(not as_json) as report:
        result = runner.run(rounds, on_progress=report)
    if as_json:
        emit_json(result.to_dict())
        return
    for record in result.rounds:
        _print_round(record)
    if result.stopped:
        out.print(f"Stopped: {result.stopped}")
    out.print(f"Champion: {result.champion or 'the base model'}")


def _print_round(r: dict) -> None:
    fb = r["feedback"]
    head = (f"[bold]Round {r['round']}[/]: feedback ids {(fb['after_id'] or 0) + 1}..{fb['last_id']} "
            f"({fb['sft_rows']} SFT rows, {fb['dpo_rows']} DPO pairs)")
    if r["decision"] == "skipped":
        out.print(f"{head}: skipped, {r['reason']}")
        return
    g = r["gate"]
    steps = " + ".join(f"{t['kind']} {t['version']}" for t in r["trained"])
    out.print(f"{head}: candidate {r['candidate']} ({steps} from {r['champion']})")
    out.print(f"  held-out {g['metric']} on {g['n']} questions: champion {g['champion']:.3f}, candidate "
              f"{g['candidate']:.3f}, difference {g['diff']:+.3f}, {g['level']:.0%} CI [{g['ci_low']:+.3f}, "
              f"{g['ci_high']:+.3f}] -> [bold]{r['decision']}[/] ({r['reason']})", highlight=False)
    if fb["heldout_overlap"]:
        err.print(f"[yellow]warning:[/] {fb['heldout_overlap']} question(s) of this round's feedback are held-out "
                  "questions: the gate then measures memory of them, not generalisation", highlight=False)


# retrieval models: the embedder and the reranker ------------------------------------------------------------

DatasetOpt = Annotated[str | None, typer.Option(help="QA dataset name under .ragtune/datasets/ (its rows' "
                                                "chunk_ids), a folder with train.jsonl, or a BEIR folder "
                                                "(qrels/train.tsv) (default: training.<kind>.dataset).")]
BaseOpt = Annotated[str | None, typer.Option("--base-model", help="Start from this model: a version id, "
                                             "champion, package or folder (default: the project's embedder).")]
NegativesOpt = Annotated[int | None, typer.Option("--negatives", min=0, help="Mined hard negatives per "
                                                  "question-passage pair.")]
ValOpt = Annotated[bool | None, typer.Option("--eval/--no-eval", help="nDCG@10 before and after on the "
                                             "validation split (when the dataset has one).")]


def _retrieval(kind: str, project: Path, dataset: str | None, max_steps: int | None, epochs: float | None,
               base_model: str | None, learning_rate: float | None, negatives: int | None, evaluate: bool | None,
               as_json: bool) -> None:
    from ragtune.project import Project
    from ragtune.training.embedder import EmbedderTuner
    from ragtune.training.reranker import RerankerTuner

    quiet_libraries()
    proj = Project(project)
    overrides = {"dataset": dataset, "max_steps": max_steps, "epochs": epochs, "base_model": base_model,
                 "learning_rate": learning_rate, "negatives": negatives, "evaluate": evaluate}
    config = getattr(proj.config.training, kind)
    config = type(config).model_validate(config.model_dump() | {k: v for k, v in overrides.items() if v is not None})
    with training_progress(not as_json) as report:
        result = {"embedder": EmbedderTuner, "reranker": RerankerTuner}[kind](proj, config).run(on_progress=report)
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


@sub.command("embedder")
@handle_errors
def embedder(project: ProjectOpt = Path("."), dataset: DatasetOpt = None, max_steps: StepsOpt = None,
             epochs: EpochsOpt = None, base_model: BaseOpt = None, learning_rate: LrOpt = None,
             negatives: NegativesOpt = None, evaluate: ValOpt = None, as_json: JsonOpt = False) -> None:
    """Domain-adapt the embedder (sentence-transformers, in-batch + mined hard negatives); registers an
    embedder version."""
    _retrieval("embedder", project, dataset, max_steps, epochs, base_model, learning_rate, negatives, evaluate,
               as_json)


@sub.command("reranker")
@handle_errors
def reranker(project: ProjectOpt = Path("."), dataset: DatasetOpt = None, max_steps: StepsOpt = None,
             epochs: EpochsOpt = None, base_model: BaseOpt = None, learning_rate: LrOpt = None,
             negatives: NegativesOpt = None, evaluate: ValOpt = None, as_json: JsonOpt = False) -> None:
    """Train a cross-encoder reranker from the embedder's MiniLM weights (BCE on positives and mined
    negatives); registers a reranker version."""
    _retrieval("reranker", project, dataset, max_steps, epochs, base_model, learning_rate, negatives, evaluate,
               as_json)
