"""`ragtune tune reader`: the verdict model and the answer-sentence scorer trained on part of the labelled documents,
each promoted only when it beats its champion (at first the untuned reader: the embedder's cosine) on the held-out
documents; ones trained on shuffled labels are registered as rejected. The labelled documents are 40 short service
agreements in which three clauses (insurance, most favored nation, non-compete) appear in one of three wordings,
or not at all."""

import json
import random
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from ragtune.cli.main import app
from ragtune.errors import ConfigError, InputError
from ragtune.training.reader import balanced_scores, held_out_documents
from ragtune.training.verdicts import LabelledPassages

FILLER = [
    "This Agreement is entered into by and between the Company and the Contractor as of the Effective Date.",
    "The Contractor shall perform the services described in Schedule A in a professional manner.",
    "All notices under this Agreement shall be in writing and delivered to the addresses set out below.",
    "Headings are for convenience only and do not affect the interpretation of this Agreement.",
    "Invoices are payable within thirty days of receipt by the Company.",
    "Neither party shall be liable for delays caused by events beyond its reasonable control.",
    "This Agreement may be executed in counterparts, each of which is deemed an original.",
    "The Contractor shall keep accurate records of the hours worked and the expenses incurred.",
    "Any amendment to this Agreement must be signed by authorised representatives of both parties.",
    "The Company shall provide the Contractor with reasonable access to its premises during business hours.",
    "Each party represents that it has full power and authority to enter into this Agreement.",
    "The fees set out in Schedule B are exclusive of value added tax.",
]
CLAUSES = {
    "Is there a clause requiring a party to maintain insurance?": [
        "The Contractor shall carry general liability coverage of not less than $1,000,000 per occurrence with a "
        "reputable carrier.",
        "During the term the Contractor will keep in force a policy covering professional liability, naming the "
        "Company as additional insured.",
        "The Contractor must hold workers compensation and liability policies and furnish certificates of coverage "
        "on request.",
    ],
    "Is there a most favored nation clause?": [
        "The prices charged to the Company shall be no less favorable than those offered to any other customer of "
        "the Contractor.",
        "If the Contractor grants better terms to any third party, the Company shall be entitled to the same more "
        "favorable terms.",
        "The Contractor warrants that no other client receives pricing more favorable than the pricing under this "
        "Agreement.",
    ],
    "Does the agreement restrict a party from competing with the counterparty?": [
        "For two years after termination the Contractor shall not engage in any business that competes with the "
        "Company in the Territory.",
        "The Contractor agrees not to provide similar services to any competitor of the Company during the term.",
        "The Contractor shall refrain from soliciting the Company's customers or operating a rival business for "
        "eighteen months.",
    ],
}

SMALL = {"max_steps": 2, "batch_size": 8, "mine": ["bm25", "random"], "negatives": 2, "max_length": 96}


def write_agreements(folder: Path, n: int = 40, seed: int = 0) -> Path:
    """``n`` agreements under ``folder/docs`` and their Yes/No labels (``folder/labels.jsonl``)."""
    rng = random.Random(seed)
    (folder / "docs").mkdir(parents=True)
    rows = []
    for i in range(n):
        name = f"agreement_{i:02d}.txt"
        parts = rng.sample(FILLER, 7)
        for question, wordings in CLAUSES.items():
            yes, clause = rng.random() < 0.4, rng.choice(wordings)
            if yes:
                parts.insert(rng.randrange(len(parts) + 1), clause)
            label = "Yes" if yes else "No"
            rows.append({"id": f"{i}-{len(rows)}", "question": question, "document": name, "label": label,
                         "answer": label, "contexts": [clause] if yes else []})
        (folder / "docs" / name).write_text(f"SERVICES AGREEMENT {i}\n\n" + "\n\n".join(parts) + "\n")
    labels = folder / "labels.jsonl"
    labels.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return labels


@pytest.fixture(scope="module")
def promoted(tmp_path_factory):
    """A contracts project of the agreements, and `tune reader --json` run once on their labels."""
    from ragtune import Project

    root = tmp_path_factory.mktemp("reader")
    labels = write_agreements(root)
    proj = Project.init(root / "p", domain="contracts")
    proj.ingest([root / "docs"])
    proj.config.training.reranker = proj.config.training.reranker.model_copy(update=SMALL)
    (root / "p" / "ragtune.yaml").write_text(proj.config.dump())
    proj.close()
    result = CliRunner().invoke(app, ["tune", "reader", "-p", str(root / "p"), "--questions", str(labels), "--json"])
    assert result.exit_code == 0, result.output
    return root / "p", labels, json.loads(result.output)


def test_models_that_beat_the_untuned_reader_are_promoted(promoted):
    from ragtune import Project

    root, _, result = promoted
    held = result["heldout"]
    assert (len(held["documents"]), held["pairs"], held["clauses_located"]) == (12, 36, held["yes"])
    models = {m["model"]: m for m in result["models"]}
    assert [(m["champion"], m["metric"]) for m in models.values()] == [
        ("untuned", "balanced_accuracy"), ("embedder", "sentence_mrr")]
    registry = Project(root).registry
    for kind, m in models.items():
        assert (m["decision"], m["version"]["status"]) == ("promoted", "champion")
        assert m["after"] > m["before"] and m["gate"]["ci_low"] > 0 and m["gate"]["p_value"] < 0.05
        assert not set(m["version"]["metrics"]["trained_on"]) & set(held["documents"])  # split by document
        assert m["version"]["metrics"]["gate"] == m["gate"] and m["train_seconds"] > 0
        assert registry.champion(kind).id == m["version"]["id"]


def test_the_promoted_scorer_is_the_answer_scorer_champion(promoted):
    from ragtune import Project

    root, _, result = promoted
    proj = Project(root)
    proj.config.answer.scorer = "champion"
    scorer = proj.answer_strategy().selector.cross_encoder
    assert scorer is proj.cross_encoder("champion", "scorer")
    assert proj.registry.champion("scorer").id == result["models"][1]["version"]["id"]
    with pytest.raises(ConfigError, match="no cross-encoder configured"):  # the reranker's champion is another
        proj.cross_encoder("champion")
    with pytest.raises(InputError, match="is a verdicts model, not a cross-encoder"):
        proj.cross_encoder(result["models"][0]["version"]["id"])
    proj.close()


def test_models_of_shuffled_labels_are_rejected_and_the_champions_stay(promoted, tmp_path):
    from ragtune import Project
    from ragtune.training.reader import ReaderTuner

    root, labels, first = promoted
    rows = [json.loads(line) for line in labels.read_text().splitlines()]
    said = [r["label"] for r in rows]
    random.Random(0).shuffle(said)
    shuffled = tmp_path / "shuffled.jsonl"
    shuffled.write_text("".join(json.dumps(r | {"label": s}) + "\n" for r, s in zip(rows, said, strict=True)))
    proj = Project(root)
    config = proj.config.training.reader.model_copy(update={"questions": str(shuffled)})
    models = ReaderTuner(proj.training_resources, config).run().models
    assert [m.champion for m in models] == [m["version"]["id"] for m in first["models"]]
    for m in models:
        assert (m.decision, m.version.status, m.gate["promote"]) == ("rejected", "rejected", False)
        assert proj.registry.champion(m.model).id == m.champion
    proj.close()


def test_too_few_documents_and_no_questions_are_refused(promoted, tmp_path):
    root, labels, _ = promoted
    rows = [json.loads(line) for line in labels.read_text().splitlines()][:6]  # two documents
    two = tmp_path / "two.jsonl"
    two.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = CliRunner().invoke(app, ["tune", "reader", "-p", str(root), "--questions", str(two)])
    assert result.exit_code != 0 and "at least three" in " ".join(result.output.split())
    result = CliRunner().invoke(app, ["tune", "reader", "-p", str(root)])
    assert result.exit_code != 0 and "--questions FILE" in result.output


def test_held_out_split_and_balanced_scores():
    names = [f"d{i}" for i in range(10)]
    held = held_out_documents(names, 0.3, seed=0)
    assert len(held) == 3 and held == held_out_documents(names, 0.3, seed=0) != held_out_documents(names, 0.3, 1)
    assert len(held_out_documents(names[:3], 0.9, seed=0)) == 1  # two documents are kept to train on
    data = LabelledPassages([], np.zeros(0), ["a", "b", "c", "d"], ["q"], [{0: True, 1: False, 2: False, 3: False}],
                            [{}])
    pairs = [(0, d) for d in range(4)]
    assert np.mean(balanced_scores(dict.fromkeys(pairs, False), data, pairs)) == 0.5  # No to all
    assert np.mean(balanced_scores({(0, 0): True, (0, 1): True, (0, 2): False, (0, 3): False}, data, pairs)) == \
        pytest.approx((1 + 2 / 3) / 2)
