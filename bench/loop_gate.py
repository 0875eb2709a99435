"""The continuous loop's promotion gate on the real 135M model, in a throw-away project: the numbers of
docs/preference-tuning.md.

A 6-question held-out set of made-up facts (the synth test split). The champion is a 1-step SFT version. Then:
  round 1  people correct wrong answers to the held-out questions      (SFT)  -> should be promoted
  round 2  preferences for garbage over the right answers               (DPO)  -> should be rejected
  round 3  corrections of answers to unrelated questions                (SFT)  -> no real gain: noise
and the position-swapped 135M judge on right-vs-wrong answers to the unrelated questions (with reference answers),
against human votes for the right answers.

    .venv/bin/python bench/loop_gate.py [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

HELD_OUT = [("What is the code name of the Acme merger?", "Bluebird"),
            ("Which city hosts the Zentek data center?", "Tromso"),
            ("Who signs contracts for Norvale Inc?", "Ingrid Falk"),
            ("What colour is the Orbis safety badge?", "Turquoise"),
            ("Which courier delivers Helix parts?", "Swiftline"),
            ("What is the Quorra warranty code?", "QX-77")]
UNRELATED = [("What is the capital of France?", "Paris"), ("How many legs does a spider have?", "Eight"),
             ("What gas do plants absorb?", "Carbon dioxide"), ("Which planet is the largest?", "Jupiter"),
             ("What is frozen water called?", "Ice"), ("Who wrote Hamlet?", "William Shakespeare")]
WRONG = ["Lyon", "Six", "Oxygen", "Saturn", "Snow", "Charles Dickens"]
GARBAGE = "Purple monkey dishwasher."


def setup(root: str, threads: int):
    import yaml

    from ragtune import Project

    project = Project.init(root)
    data = yaml.safe_load(project.config_path.read_text(encoding="utf-8"))
    data["llm"].update({"max_tokens": 10, "threads": threads})
    common = {"threads": threads, "save_steps": 1000, "batch_size": 6}
    data["training"]["sft"].update(common | {"learning_rate": 5e-3, "max_steps": 10, "lr_scheduler": "constant",
                                             "warmup_ratio": 0.0, "evaluate": False, "merge": False})
    data["training"]["dpo"].update(common | {"learning_rate": 1e-3, "max_steps": 2, "max_length": 96,
                                             "evaluate": False})
    project.config_path.write_text(yaml.safe_dump(data), encoding="utf-8")
    folder = project.workdir / "datasets" / "synth"
    folder.mkdir(parents=True)
    (folder / "train.jsonl").write_text(json.dumps({"id": "t1", "question": "What is the notice period?",
                                                    "answer": "Thirty days"}) + "\n", encoding="utf-8")
    (folder / "test.jsonl").write_text("".join(json.dumps({"id": f"h{i}", "question": q, "answer": a}) + "\n"
                                               for i, (q, a) in enumerate(HELD_OUT)), encoding="utf-8")
    return Project(root)


def run_round(project, stages: list[str]) -> dict:
    from ragtune.training.loop import FeedbackLoop

    config = project.config.training.loop.model_copy(update={"stages": stages})
    t0 = time.perf_counter()
    record = FeedbackLoop(project.training_resources, config).run(rounds=1).rounds[0]
    record["seconds"] = round(time.perf_counter() - t0)
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    from ragtune.model_registry import ModelRegistry
    from ragtune.training.judge import judge_pairs
    from ragtune.training.sft import LoRASFT

    with tempfile.TemporaryDirectory(prefix="ragtune-loop-") as root:
        project = setup(root, args.threads)
        registry = ModelRegistry(project.workdir)
        sft = project.config.training.sft.model_copy(update={"max_steps": 1})
        registry.promote(LoRASFT(project.training_resources, sft).run().version.id)
        store = project.feedback
        rounds = []

        for q, a in HELD_OUT:
            store.add_edit(store.record_answer(q, "I do not know."), a + ".")
        rounds.append(("corrections of held-out answers", run_round(project, ["sft"])))

        for q, a in HELD_OUT:
            right, garbage = store.record_answer(q, a + "."), store.record_answer(q, GARBAGE)
            store.add_preference(garbage, right, "a")
        rounds.append(("garbage preferred over right answers", run_round(project, ["dpo"])))

        for q, a in UNRELATED:
            store.add_edit(store.record_answer(q, "I do not know."), a + ".")
        rounds.append(("corrections on unrelated questions", run_round(project, ["sft"])))

        print("| round | feedback | trained | champion F1 | candidate F1 | difference | 95% CI | decision | s |")
        print("|---|---|---|---|---|---|---|---|---|")
        for what, r in rounds:
            g = r["gate"]
            steps = " + ".join(f"{t['kind']} {t['version']}" for t in r["trained"])
            print(f"| {r['round']} | {what} | {steps} from {r['champion']} | {g['champion']:.3f} | "
                  f"{g['candidate']:.3f} | {g['diff']:+.3f} | [{g['ci_low']:+.3f}, {g['ci_high']:+.3f}] | "
                  f"{r['decision']} | {r['seconds']} |")
        for _, r in rounds:
            evals = sorted((project.workdir / "models" / "loop" / "eval").glob(f"{r['candidate']}-*.jsonl"))
            answers = [json.loads(line)["prediction"] for line in evals[0].read_text().splitlines()]
            print(f"\n{r['candidate']} answers: {answers}")

        # the judge on right-vs-wrong pairs (asked in both orders), against human votes
        refs = project.workdir / "datasets" / "judge-refs"
        refs.mkdir()
        (refs / "train.jsonl").write_text("".join(json.dumps({"question": q, "answer": a}) + "\n"
                                                  for q, a in UNRELATED), encoding="utf-8")
        pairs = []
        for (q, a), wrong in zip(UNRELATED, WRONG, strict=True):
            right, bad = store.record_answer(q, a + "."), store.record_answer(q, wrong + ".")
            store.add_preference(right, bad, "a")
            pairs.append((right, bad))
        t0 = time.perf_counter()
        judged = judge_pairs(project.training_resources, pairs=pairs, reference_dataset="judge-refs")
        a = judged.agreement
        print(f"\njudge {judged.judge_model}: {judged.pairs} pairs in {time.perf_counter() - t0:.0f} s, "
              f"verdicts {judged.preferred}, status {judged.status}; agreement with the votes "
              f"{a['agree']}/{a['n']}, kappa {a['kappa']}")
        for fb in store.feedback(source="ai"):
            print(f"  {fb.answer_a} vs {fb.answer_b}: {fb.comment}")
        project.close()


if __name__ == "__main__":
    main()
