"""Preference tuning with the real 135M model: the position-swapped AI judge and its agreement with human votes,
DPO and KTO runs that register a servable version."""

import json

import pytest
from typer.testing import CliRunner

from ragtune.cli.main import app
from ragtune.errors import InputError
from ragtune.model_registry import ADAPTER, LORA_GGUF, ModelRegistry
from ragtune.training.judge import PairwiseJudge, cohen_kappa, judge_agreement, judge_pairs, parse_verdict

Q = "How long is the warranty?"
GOOD = "The warranty lasts twenty-four (24) months from delivery."
BAD = "Bananas are yellow."


@pytest.mark.parametrize("reply, verdict", [
    ("A", "a"), (" B.", "b"), ("A: The answer is correct.", "a"), ("**B** is better", "b"),
    ("The better one is Answer B.", "b"), ("Both are equally good.", "tie"), ("TIE", "tie"), ("", None),
    ("I cannot decide", None),
])
def test_parse_verdict(reply, verdict):
    assert parse_verdict(reply) == verdict


def test_cohen_kappa():
    assert cohen_kappa([]) is None
    assert cohen_kappa([("a", "a"), ("b", "b")]) == 1.0
    assert cohen_kappa([("a", "a"), ("a", "a")]) is None  # one label only: chance agreement is 1
    # 3 of 4 agree; p_e = (2 * 1 + 2 * 3) / 16 = 0.5 -> kappa = (0.75 - 0.5) / 0.5
    assert cohen_kappa([("a", "a"), ("a", "b"), ("b", "b"), ("b", "b")]) == pytest.approx(0.5)


def test_judge_swaps_positions(new_project):
    """The real judge is asked in both orders; its verdict stands only when both orders agree."""
    from ragtune.evaluation.bench import judge_llm

    judge = PairwiseJudge(judge_llm(new_project.config.bench.judge, new_project.config.llm, lambda: new_project.llm))
    v = judge.compare(Q, GOOD, BAD, reference="Twenty-four months from delivery.")
    assert len(v.replies) == 2 and v.completion_tokens > 0
    if v.a_first is None or v.b_first is None:
        assert (v.preferred, v.status) == ("tie", "unparseable")
    elif v.a_first == v.b_first:
        assert (v.preferred, v.status) == (v.a_first, "consistent")
    else:
        assert (v.preferred, v.status) == ("tie", "inconsistent")


def test_judge_pairs_writes_ai_feedback_and_agreement(new_project):
    store = new_project.feedback
    good, bad = (store.record_answer(Q, text, model="fast") for text in (GOOD, BAD))
    store.record_answer("Who are the parties?", "Acme and Beta.")  # alone: no pair
    store.add_preference(good, bad, "a", rater="alice")
    refs = new_project.workdir / "datasets" / "synth"
    refs.mkdir(parents=True)
    (refs / "train.jsonl").write_text(json.dumps({"question": Q, "answer": "24 months."}) + "\n", encoding="utf-8")
    report = judge_pairs(new_project.training_resources)
    assert report.pairs == 1 and sum(report.status.values()) == 1 and sum(report.preferred.values()) == 1
    assert report.with_reference == 1  # the train split's answer is the judge's reference
    [fb] = store.feedback(source="ai")
    assert (fb.kind, fb.answer_a, fb.answer_b, fb.judge_model) == ("preference", good, bad, "fast")
    assert "A-first says" in fb.comment
    agreement = report.agreement
    assert agreement["n"] == 1 and agreement["agree"] == int(fb.preferred == "a")
    assert agreement["confusion"]["a"][fb.preferred] == 1
    assert judge_pairs(new_project.training_resources).pairs == 0  # already judged by this model


def test_agreement_counts_votes_rankings_and_preferences(new_project):
    store = new_project.feedback
    x, y, z = (store.record_answer(Q, t) for t in (GOOD, BAD, "Two years."))
    store.add_rating(x, "up")
    store.add_rating(y, "down")  # votes: x over y
    store.add_ranking([z, y])  # z over y
    store.add_preference(z, x, "tie")  # x, z tie
    ai = {"source": "ai", "judge_model": "judge-1"}
    store.add_preference(y, x, "b", **ai)  # agrees: x over y
    store.add_preference(y, z, "a", **ai)  # disagrees: says y over z
    store.add_preference(x, z, "tie", **ai)  # agrees
    store.add_preference(x, y, "a", source="ai", judge_model="other")  # another judge: not counted
    agreement = judge_agreement(store, "judge-1")
    assert (agreement["n"], agreement["agree"]) == (3, 2)
    assert agreement["agreement"] == pytest.approx(2 / 3)
    # pairs oriented lower id first: (x,y) human a / ai a; (x,z) tie / tie; (y,z) human b / ai a
    assert agreement["confusion"]["a"]["a"] == 1 and agreement["confusion"]["tie"]["tie"] == 1
    assert agreement["confusion"]["b"]["a"] == 1
    assert agreement["kappa"] == pytest.approx(cohen_kappa([("a", "a"), ("tie", "tie"), ("b", "a")]))


# DPO and KTO ---------------------------------------------------------------------------------------------

TINY = {"threads": 1, "batch_size": 2, "max_steps": 2, "max_length": 128, "learning_rate": 1e-4, "evaluate": False}


def _configure(project, **sections) -> None:
    """Write ``training.<section>`` settings into the project's ragtune.yaml."""
    import yaml

    data = yaml.safe_load(project.config_path.read_text(encoding="utf-8"))
    data.setdefault("training", {}).update(sections)
    project.config_path.write_text(yaml.safe_dump(data), encoding="utf-8")


def test_dpo_and_kto_train_register_and_serve(new_project):
    from ragtune import Project
    from ragtune.training.dpo import DPO
    from ragtune.training.kto import KTO

    with pytest.raises(InputError, match="no DPO training rows"):
        DPO(new_project.training_resources).run()
    store = new_project.feedback
    for question, good, bad in [(Q, GOOD, BAD), ("Which law governs the agreement?", "New York law.", "Mars law.")]:
        g, b = store.record_answer(question, good), store.record_answer(question, bad)
        store.add_preference(g, b, "a")
        store.add_rating(g, "up")
        store.add_rating(b, "down")
    _configure(new_project, dpo=TINY, kto=TINY)
    project = Project(new_project.root)

    dpo = DPO(project.training_resources)
    rows = dpo.rows()
    assert len(rows) == 2 and [m["role"] for m in rows[0]["prompt"]] == ["system", "user"]  # closed-book format
    result = dpo.run()
    v = result.version
    assert (v.id, v.kind, v.parent, v.status) == ("v1", "dpo", None, "candidate")  # no champion: from the base
    assert result.train["steps"] == 2 and result.examples == 2 and "rewards/margins" in v.metrics
    assert len(v.data_hashes["train"]) == 64 and v.config["feedback"]["rows"] == 2
    folder = ModelRegistry(project.workdir).folder(v)
    assert (folder / LORA_GGUF).is_file() and not (folder / ADAPTER / "ref").exists()
    assert project.llm_for("v1").generate([{"role": "user", "content": Q}], max_tokens=8).completion_tokens > 0
    assert not list((project.workdir / "models" / "runs").glob("dpo-*"))  # the run folder is cleaned up

    ModelRegistry(project.workdir).promote("v1")
    res = CliRunner().invoke(app, ["tune", "kto", "-p", str(project.root), "--max-steps", "2", "--json"])
    assert res.exit_code == 0, res.output
    kto = json.loads(res.stdout)
    assert kto["version"]["kind"] == "kto" and kto["version"]["parent"] == "v1"  # from the champion
    assert kto["examples"] == 4 and kto["train"]["steps"] == 2
    assert project.llm_for(kto["version"]["id"]).generate([{"role": "user", "content": Q}],
                                                           max_tokens=8).completion_tokens > 0
    with pytest.raises(InputError, match="at least 2"):
        KTO(project.training_resources).check(KTO(project.training_resources).rows()[:1])
