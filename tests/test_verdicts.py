"""Trained yes/no verdicts (`ragtune tune verdicts`, `answer.verdicts`) on three demo contracts and their CUAD
labels: training, cross-validated metrics, the answers they give, the saved model, and bad input."""

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from ragtune.cli.main import app
from ragtune.errors import InputError
from ragtune.generation.verdicts import VerdictModel, VerdictReader
from ragtune.index.store import glob_escape

LABELS = Path(__file__).parent / "data" / "cuad_verdicts" / "yes_no.jsonl"
DEMO = Path(__file__).parents[1] / "src" / "ragtune" / "demo" / "corpus"
ROWS = [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines()]
INSURANCE = next(r for r in ROWS if r["label"] == "Yes" and "insurance" in r["question"])
ESCROW = next(r for r in ROWS if "escrow" in r["question"].lower())


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A project of the three labelled contracts and the verdict version trained on their labels."""
    from ragtune import Project

    root = tmp_path_factory.mktemp("verdicts")
    docs = root / "docs"
    docs.mkdir()
    for name in sorted({r["document"] for r in ROWS}):
        shutil.copy(DEMO / name, docs / name)
    Project.init(root / "p", domain="contracts").ingest([docs])
    result = CliRunner().invoke(app, ["tune", "verdicts", "-p", str(root / "p"), "--questions", str(LABELS),
                                      "--json"])
    assert result.exit_code == 0, result.output
    return root / "p", json.loads(result.output)


def ask(root: Path, row: dict, verdicts: str | None) -> str:
    from ragtune import Project

    proj = Project(root)
    proj.config.answer.verdicts = verdicts
    try:
        return proj.ask(row["question"], filters={"source": f"*{glob_escape(row['document'])}"}).answer
    finally:
        proj.close()


def test_training_reports_the_labels_and_cross_validated_accuracy(trained):
    _, result = trained
    assert result["version"]["kind"] == "verdicts"
    assert result["data"] | {"passages": 0} == {"questions": 33, "documents": 3, "passages": 0, "labels": 99,
                                                 "yes": 23, "no": 76}
    evaluation = result["evaluation"]
    assert evaluation["cv_pairs"] == 99
    assert 0 <= evaluation["cv_auc"] <= 1 and 0 <= evaluation["cv_balanced_accuracy"] <= 1
    assert set(result["version"]["metrics"]) == {"cv_auc", "cv_balanced_accuracy", "cv_pairs", "threshold", "seconds",
                                                 "labels"}
    assert result["version"]["metrics"]["labels"] == 99 and result["version"]["metrics"]["seconds"] > 0


def test_the_model_answers_its_questions_from_the_whole_document(trained):
    from ragtune import Project

    root, result = trained
    proj = Project(root)
    model = VerdictModel.load(proj.registry.folder(result["version"]["id"]))
    reader = VerdictReader(model, proj.store)
    said, yes = [], []
    for r in ROWS:
        chunks = proj.store.chunks(sorted(proj.store.matching_ids({"source": f"*{glob_escape(r['document'])}"}))[:1])
        said.append(reader.verdict(r["question"], chunks) == "Yes")
        yes.append(r["label"] == "Yes")
    said, yes = np.array(said), np.array(yes)
    assert (said[yes].mean() + (~said[~yes]).mean()) / 2 >= 0.9  # the labels it was fitted on
    assert model.knows(INSURANCE["question"].upper().rstrip("?"))  # matched by words, not case or punctuation
    assert reader.verdict("Is the sky green?", chunks) is None
    proj.close()


def test_answers_lead_with_the_trained_verdict_and_quote_the_passages(trained):
    root, result = trained
    version = result["version"]["id"]
    yes = ask(root, INSURANCE, version)
    assert yes.startswith("Yes. ") and re.search(r"\[\d\]", yes)
    assert ask(root, ESCROW, version).startswith("No; the closest passages: ")
    other = {"question": "Is there a clause about pets?", "document": INSURANCE["document"]}
    assert ask(root, other, version) == ask(root, other, None)  # an unknown question keeps yes_threshold


@pytest.mark.parametrize("rows, message", [
    ([{"question": "What is the term?", "answer": "five years", "document": INSURANCE["document"]}],
     "no row to train a verdict on"),
    ([{"question": "Is there insurance?", "answer": "Yes", "document": "missing.txt"}],
     "not in the index: missing.txt"),
    ([{"question": "Is there insurance?", "label": "Yes", "answer": "x", "document": INSURANCE["document"]}],
     "one document"),
])
def test_bad_labels_are_refused_naming_the_file_and_register_nothing(trained, tmp_path, rows, message):
    from ragtune import Project

    root, _ = trained
    path = tmp_path / "labels.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    before = len(Project(root).registry.list())
    result = CliRunner().invoke(app, ["tune", "verdicts", "-p", str(root), "--questions", str(path)])
    assert result.exit_code != 0
    assert str(path) in " ".join(result.output.split()) and message in " ".join(result.output.split())
    assert len(Project(root).registry.list()) == before


def test_missing_questions_and_broken_models_get_clear_errors(trained, tmp_path):
    root, _ = trained
    result = CliRunner().invoke(app, ["tune", "verdicts", "-p", str(root)])
    assert result.exit_code != 0 and "--questions FILE" in result.output
    result = CliRunner().invoke(app, ["tune", "verdicts", "-p", str(root), "--questions", str(tmp_path / "no.jsonl")])
    assert result.exit_code != 0 and "no such questions file" in result.output
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="not a verdict model"):
        ask(root, INSURANCE, str(tmp_path / "empty"))


def test_reviewed_answers_export_as_verdict_labels_and_train(trained, tmp_path):
    """The loop a reviewer drives: answers corrected (or rated up) in the web app -> `feedback export --format
    verdicts` -> `tune verdicts`."""
    from ragtune import Project

    root, _ = trained
    proj = Project(root)
    clause = " ".join(INSURANCE["contexts"][0].split())
    for row, correction in ((INSURANCE, f"Yes. {clause}"), (ESCROW, "No")):
        answer = proj.ask(INSURANCE["question"], filters={"source": f"*{glob_escape(row['document'])}"},
                          record=True)
        proj.feedback.add_edit(answer.answer_id, correction)
    proj.close()
    labels = tmp_path / "reviewed.jsonl"
    result = CliRunner().invoke(app, ["feedback", "export", "-p", str(root), "--format", "verdicts", "-o",
                                      str(labels), "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["rows"] == 2, result.output
    rows = [json.loads(line) for line in labels.read_text(encoding="utf-8").splitlines()]
    assert [(Path(r["document"]).name, r["label"], r["contexts"]) for r in rows] == [
        (INSURANCE["document"], "Yes", [clause]), (ESCROW["document"], "No", [])]
    result = CliRunner().invoke(app, ["tune", "verdicts", "-p", str(root), "--questions", str(labels), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["data"] | {"passages": 0} == {
        "questions": 1, "documents": 2, "passages": 0, "labels": 2, "yes": 1, "no": 1}
