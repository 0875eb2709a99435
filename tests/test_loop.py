"""The continuous loop with the real 135M model: a round whose feedback teaches the held-out answers is promoted,
a round whose feedback prefers garbage is rejected by the measured bootstrap interval, rollback restores the
earlier champion. Plus the gate's decision rule on fixed scores."""

import json

import pytest
from typer.testing import CliRunner

from ragtune.cli.main import app
from ragtune.errors import InputError
from ragtune.model_registry import ModelRegistry, sha256_file
from ragtune.training.gate import decide

# Held-out questions with short made-up answers the base model cannot know.
HELD_OUT = [("What is the code name of the Acme merger?", "Bluebird"),
            ("Which city hosts the Zentek data center?", "Tromso"),
            ("Who signs contracts for Norvale Inc?", "Ingrid Falk"),
            ("What colour is the Orbis safety badge?", "Turquoise"),
            ("Which courier delivers Helix parts?", "Swiftline"),
            ("What is the Quorra warranty code?", "QX-77")]
GARBAGE = "Purple monkey dishwasher."


def test_gate_promotes_only_beyond_the_noise():
    better = decide("token_f1", [0.0, 0.2, 0.1, 0.0, 0.3, 0.1], [1.0, 0.9, 1.0, 0.8, 1.0, 0.7])
    assert better.promote and better.ci_low > 0 and "above 0" in better.reason
    worse = decide("token_f1", [1.0] * 6, [0.0] * 6)
    assert not worse.promote and worse.ci_high < 0 and "below 0" in worse.reason
    noisy = decide("token_f1", [0.5, 0.4, 0.6, 0.5], [0.9, 0.0, 0.6, 0.6])  # +0.025 on average, but noise
    assert not noisy.promote and noisy.ci_low < 0 < noisy.ci_high and "includes 0" in noisy.reason
    assert decide("token_f1", [0.5] * 4, [0.5] * 4).promote is False  # equal is not better
    assert decide("token_f1", [], []).promote is False
    with pytest.raises(ValueError):
        decide("token_f1", [0.1], [0.1, 0.2])


@pytest.fixture
def loop_project(new_project):
    """A project whose held-out set is HELD_OUT (the synth test split), set up to train fast on 1 thread."""
    import yaml

    from ragtune import Project

    data = yaml.safe_load(new_project.config_path.read_text(encoding="utf-8"))
    data["llm"].update({"max_tokens": 10, "threads": 1})
    fast = {"threads": 1, "save_steps": 1000}
    data["training"]["sft"].update(fast | {"batch_size": 6, "learning_rate": 5e-3, "max_steps": 10,
                                           "lr_scheduler": "constant", "warmup_ratio": 0.0, "evaluate": False,
                                           "merge": False})
    data["training"]["dpo"].update(fast | {"batch_size": 6, "learning_rate": 1e-3, "max_steps": 2,
                                           "max_length": 96, "evaluate": False})
    data["training"]["loop"].update({"stages": ["sft"], "bootstrap_samples": 1000})
    new_project.config_path.write_text(yaml.safe_dump(data), encoding="utf-8")
    folder = new_project.workdir / "datasets" / "synth"
    folder.mkdir(parents=True)
    (folder / "train.jsonl").write_text(json.dumps({"id": "t1", "question": "What is the notice period?",
                                                    "answer": "Thirty days"}) + "\n", encoding="utf-8")
    (folder / "test.jsonl").write_text("".join(json.dumps({"id": f"h{i}", "question": q, "answer": a}) + "\n"
                                               for i, (q, a) in enumerate(HELD_OUT)), encoding="utf-8")
    project = Project(new_project.root)
    yield project
    project.close()


def _stages(project, stages: list[str]) -> None:
    import yaml

    data = yaml.safe_load(project.config_path.read_text(encoding="utf-8"))
    data["training"]["loop"]["stages"] = stages
    project.config_path.write_text(yaml.safe_dump(data), encoding="utf-8")


def test_loop_promotes_good_rejects_bad_and_rolls_back(loop_project):
    from ragtune import Project
    from ragtune.training.loop import FeedbackLoop
    from ragtune.training.sft import LoRASFT

    project, registry = loop_project, ModelRegistry(loop_project.workdir)
    # the current champion: a 1-step SFT version (it cannot know the held-out answers)
    sft = project.config.training.sft.model_copy(update={"max_steps": 1})
    registry.promote(LoRASFT(project.training_resources, sft).run().version.id)
    assert FeedbackLoop(project.training_resources).run(rounds=1).stopped == "no new feedback since feedback id 0"

    # round 1: people correct wrong answers to the held-out questions -> the candidate must win
    store = project.feedback
    for q, a in HELD_OUT:
        store.add_edit(store.record_answer(q, "I do not know."), a + ".")
    r1 = FeedbackLoop(project.training_resources).run(rounds=1).rounds[0]
    assert (r1["round"], r1["champion"], r1["candidate"], r1["decision"]) == (1, "v1", "v2", "promoted")
    assert r1["gate"]["ci_low"] > 0 and r1["gate"]["n"] == len(HELD_OUT)
    assert r1["metrics"]["candidate"]["token_f1"] > r1["metrics"]["champion"]["token_f1"]
    assert r1["feedback"] == {"after_id": None, "last_id": 6, "sft_rows": 6, "dpo_rows": 0, "heldout_overlap": 6}
    held_out_file = project.workdir / "datasets" / "synth" / "test.jsonl"
    assert r1["heldout"]["sha256"] == sha256_file(held_out_file)
    assert r1["trained"][0]["data_sha256"] == registry.get("v2").data_hashes["train"]
    assert registry.champion("llm").id == "v2" and registry.get("v2").metrics["gate"]["promote"] is True

    # round 2, through the CLI: feedback that prefers garbage over the right answers -> the gate must reject it
    _stages(project, ["dpo"])
    project = Project(project.root)
    store = project.feedback
    for q, a in HELD_OUT:
        right, garbage = store.record_answer(q, a + "."), store.record_answer(q, GARBAGE)
        store.add_preference(garbage, right, "a")
    res = CliRunner().invoke(app, ["tune", "loop", "-p", str(project.root), "--rounds", "2", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert len(out["rounds"]) == 1 and out["stopped"] == "no new feedback since feedback id 12"
    r2 = out["rounds"][0]
    assert (r2["round"], r2["champion"], r2["candidate"], r2["decision"]) == (2, "v2", "v3", "rejected")
    assert r2["trained"][0]["kind"] == "dpo" and r2["feedback"]["dpo_rows"] == 6
    assert r2["gate"]["promote"] is False and r2["gate"]["ci_low"] <= 0  # decided by the measured interval
    assert out["champion"] == "v2" and registry.get("v3").status == "rejected"
    assert registry.get("v3").parent == "v2"

    history = json.loads(CliRunner().invoke(app, ["tune", "loop", "-p", str(project.root), "--history",
                                                  "--json"]).stdout)
    assert [r["decision"] for r in history["rounds"]] == ["promoted", "rejected"]
    assert history["heldout"]["sha256"] == r1["heldout"]["sha256"]

    # rollback restores the champion before v2; repeated rollback walks back
    res = CliRunner().invoke(app, ["models", "rollback", "-p", str(project.root), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["id"] == "v1" and registry.champion("llm").id == "v1"

    # the held-out set is frozen: changing it stops the loop instead of comparing rounds on different sets
    held_out_file.write_text(held_out_file.read_text(encoding="utf-8").replace("Bluebird", "Redbird"),
                             encoding="utf-8")
    with pytest.raises(InputError, match="held-out set changed"):
        FeedbackLoop(project.training_resources).run(rounds=1)
