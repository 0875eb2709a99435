"""`ragtune feedback`: rate, compare, rank and correct answers; import feedback; export training data.
Keep imports here light: the store (SQLAlchemy) loads inside the commands."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

import typer

from ragtune.cli.output import emit_json, handle_errors, out

sub = typer.Typer(help="The feedback store: answers shown and feedback on them; training data from it.",
                  no_args_is_help=True)
add = typer.Typer(help="Add feedback on answers (ids are printed by `ragtune ask`).", no_args_is_help=True)
sub.add_typer(add, name="add")

ProjectOpt = Annotated[Path, typer.Option("--project", "-p", help="Project folder (holds ragtune.yaml).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
CommentOpt = Annotated[str | None, typer.Option("--comment", "-c", help="Free-text comment.")]
SourceOpt = Annotated[Literal["human", "ai"], typer.Option("--source", help="Who judged: human or ai.")]
JudgeOpt = Annotated[str | None, typer.Option("--judge-model", help="The judge model (needed with --source ai).")]
RaterOpt = Annotated[str | None, typer.Option("--rater", help="Who gave the feedback (name or id).")]


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.add_typer(sub, name="feedback")


def _store(project: Path):
    from ragtune.project import Project

    return Project(project).feedback


def _added(store, feedback_id: int, as_json: bool) -> None:
    fb = store.feedback(after_id=feedback_id - 1)[0]
    if as_json:
        emit_json(fb.model_dump(mode="json"))
    else:
        out.print(f"Stored {fb.kind} {fb.id} on answer(s) {', '.join(map(str, fb.answer_ids))}", highlight=False)


@add.command("rating")
@handle_errors
def add_rating(answer_id: Annotated[int, typer.Argument(help="The answer id.")],
               rating: Annotated[Literal["up", "down"], typer.Argument(help="Thumbs up or down.")],
               comment: CommentOpt = None, source: SourceOpt = "human", judge_model: JudgeOpt = None,
               rater: RaterOpt = None, project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Thumbs up or down on an answer, with an optional comment."""
    store = _store(project)
    fid = store.add_rating(answer_id, rating, comment=comment, source=source, judge_model=judge_model, rater=rater)
    _added(store, fid, as_json)


@add.command("preference")
@handle_errors
def add_preference(better: Annotated[int, typer.Argument(help="The preferred answer id (A).")],
                   worse: Annotated[int, typer.Argument(help="The other answer id (B), same question.")],
                   tie: Annotated[bool, typer.Option("--tie", help="Neither is better.")] = False,
                   comment: CommentOpt = None, source: SourceOpt = "human", judge_model: JudgeOpt = None,
                   rater: RaterOpt = None, project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Answer A is better than answer B (two answers to the same question)."""
    store = _store(project)
    fid = store.add_preference(better, worse, "tie" if tie else "a", comment=comment, source=source,
                               judge_model=judge_model, rater=rater)
    _added(store, fid, as_json)


@add.command("ranking")
@handle_errors
def add_ranking(answer_ids: Annotated[list[int], typer.Argument(help="Answer ids to one question, best first.")],
                comment: CommentOpt = None, source: SourceOpt = "human", judge_model: JudgeOpt = None,
                rater: RaterOpt = None, project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Rank answers to the same question, best first."""
    store = _store(project)
    fid = store.add_ranking(answer_ids, comment=comment, source=source, judge_model=judge_model, rater=rater)
    _added(store, fid, as_json)


@add.command("edit")
@handle_errors
def add_edit(answer_id: Annotated[int, typer.Argument(help="The answer id.")],
             edited_answer: Annotated[str, typer.Argument(help="The corrected answer.")],
             comment: CommentOpt = None, source: SourceOpt = "human", judge_model: JudgeOpt = None,
             rater: RaterOpt = None, project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """A corrected version of an answer."""
    store = _store(project)
    fid = store.add_edit(answer_id, edited_answer, comment=comment, source=source, judge_model=judge_model,
                         rater=rater)
    _added(store, fid, as_json)


@sub.command("import")
@handle_errors
def import_(file: Annotated[Path, typer.Argument(help="A .jsonl or .csv file of feedback (docs/feedback.md).")],
            project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Import feedback; the whole file is checked first and nothing is written if any row is bad."""
    report = _store(project).import_file(file)
    if as_json:
        emit_json(report)
    else:
        kinds = ", ".join(f"{n} {k}" for k, n in report["by_kind"].items())
        out.print(f"Imported {report['feedback']} feedback rows ({kinds}); {report['answers_created']} new answers",
                  highlight=False)


def _since(value: str | None) -> datetime | None:
    from ragtune.errors import InputError

    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"--since {value!r}: expected an ISO date or time, like 2025-06-01 or "
                         "2025-06-01T12:00+00:00") from None


@sub.command("export")
@handle_errors
def export(format_: Annotated[Literal["sft", "dpo", "kto", "verdicts"],
                              typer.Option("--format", "-f", help="Dataset format.")],
           out_file: Annotated[Path, typer.Option("--out", "-o", help="Output JSONL file.")],
           since: Annotated[str | None, typer.Option(help="Only feedback given at or after this ISO time "
                                                     "(local time unless it has a zone).")] = None,
           after_id: Annotated[int | None, typer.Option("--after-id", help="Only feedback with a larger id "
                                                        "(the last_feedback_id of a previous export).")] = None,
           source: Annotated[Literal["human", "ai"] | None, typer.Option(help="Only feedback from this source.")]
           = None,
           with_context: Annotated[bool, typer.Option("--with-context", help="Prompts include the retrieved "
                                                      "passages the answer was generated from.")] = False,
           project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Export training data: sft (chat messages), dpo (prompt/chosen/rejected), kto (prompt/completion/label) or
    verdicts (reviewed yes/no questions for `ragtune tune verdicts`)."""
    from ragtune.datasets.exports import export_feedback

    report = export_feedback(_store(project), format_, out_file, since=_since(since), after_id=after_id,
                             source=source, with_context=with_context)
    if as_json:
        emit_json(report)
    else:
        out.print(f"Wrote {report['rows']} {format_} rows from {report['feedback_used']} feedback records to "
                  f"{report['path']} (last feedback id: {report['last_feedback_id']})", highlight=False)


@sub.command("stats")
@handle_errors
def stats(project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Counts of answers and feedback, and how many rows each export format would give."""
    from ragtune.datasets.exports import FORMATS, feedback_dataset

    store = _store(project)
    counts = store.counts()
    counts["export_rows"] = {f: len(feedback_dataset(store, f)) for f in FORMATS}
    if as_json:
        emit_json(counts)
        return
    k = counts["by_kind"]
    out.print(f"Answers: {counts['answers']}", highlight=False)
    out.print(f"Feedback: {counts['feedback']} ({counts['by_source']['human']} human, {counts['by_source']['ai']} "
              f"ai): {k['rating_up']} up, {k['rating_down']} down, {k['preference']} preferences, "
              f"{k['ranking']} rankings, {k['edit']} edits", highlight=False)
    out.print("Export rows: " + ", ".join(f"{f} {n}" for f, n in counts["export_rows"].items()), highlight=False)
