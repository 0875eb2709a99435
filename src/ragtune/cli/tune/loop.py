"""`ragtune tune loop`: the continuous feedback -> train -> gate -> promote loop."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ragtune.cli.config_options import config_options
from ragtune.cli.output import emit_json, err, handle_errors, out
from ragtune.cli.tune import JsonOpt, ProjectOpt, quiet_libraries, training_progress
from ragtune.training.config import LoopConfig


def register(tune: typer.Typer) -> None:
    tune.command("loop")(loop)


@handle_errors
@config_options(LoopConfig, "training.loop")
def loop(project: ProjectOpt = Path("."),
         rounds: Annotated[int, typer.Option(min=1, help="Rounds to run (stops early without new feedback).")] = 3,
         max_steps: Annotated[int | None, typer.Option("--max-steps", min=1, help="Stop each round's training after "
                                                       "N optimizer steps.")] = None,
         epochs: Annotated[float | None, typer.Option(min=0.01, help="Passes over each round's training rows.")]
         = None,
         history: Annotated[bool, typer.Option("--history", help="Print the recorded rounds and exit.")] = False,
         as_json: JsonOpt = False, overrides: dict[str, Any] | None = None) -> None:
    """Feedback -> data -> train from the champion -> evaluate on the frozen held-out set -> promote only if the
    paired bootstrap interval of the gain excludes 0, else keep the champion. Every round is recorded."""
    from ragtune.config import with_overrides
    from ragtune.project import Project
    from ragtune.training.loop import FeedbackLoop

    quiet_libraries()
    proj = Project(project)
    config = with_overrides(proj.config.training.loop, overrides or {})
    runner = FeedbackLoop(proj.training_resources, config, max_steps=max_steps, epochs=epochs)
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
    reader = r.get("reader") or {}
    if r["decision"] == "skipped":
        out.print(f"{head}: skipped, {r['reason']}")
        return
    out.print(head)
    for m in reader.get("models", []):
        g = m["gate"]
        out.print(f"  reader {m['model']} {m['version']['id']} (from {reader['rows']} labelled rows): held-out "
                  f"{m['metric']} on {g['n']} pairs, {m['champion']} {m['before']:.3f}, candidate {m['after']:.3f} "
                  f"-> [bold]{m['decision']}[/] ({g['reason']})", highlight=False)
    if reader.get("skipped"):
        out.print(f"  reader: skipped, {reader['skipped']}")
    if "gate" not in r:  # no LLM trained this round
        return
    g = r["gate"]
    steps = " + ".join(f"{t['kind']} {t['version']}" for t in r["trained"] if t["kind"] in ("sft", "dpo"))
    out.print(f"  LLM candidate {r['candidate']} ({steps} from {r['champion']})")
    out.print(f"  held-out {g['metric']} on {g['n']} questions: champion {g['champion']:.3f}, candidate "
              f"{g['candidate']:.3f}, difference {g['diff']:+.3f}, {g['level']:.0%} CI [{g['ci_low']:+.3f}, "
              f"{g['ci_high']:+.3f}] -> [bold]{r['decision']}[/] ({r['reason']})", highlight=False)
    if fb["heldout_overlap"]:
        err.print(f"[yellow]warning:[/] {fb['heldout_overlap']} question(s) of this round's feedback are held-out "
                  "questions: the gate then measures memory of them, not generalisation", highlight=False)
