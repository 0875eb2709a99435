"""`tune loop` retrains the reader from web-app corrections: on the chat page's API, each yes/no question is asked of
one agreement and its answer corrected ("Yes. <the clause>" or "No."); a loop round trains the verdict model and
the answer-sentence scorer on those corrections, gates each against the untuned reader on held-out agreements and
promotes it, and the server then answers with the promoted verdicts. A second round, on corrections whose verdicts
were shuffled, is rejected and the champions stay. The agreements are test_tune_reader's."""

import json
import random
import re
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from conftest import start_server, stop_server
from ragtune.cli.main import app
from ragtune.generation.answer_forms import parse_yes_no
from test_tune_reader import CLAUSES, SMALL, write_agreements

pytestmark = pytest.mark.slow


@contextmanager
def _browser(served):
    """A client that opened the chat page, as a browser does: its session cookie and the page's CSRF token. The
    page offers every agreement as a document to ask about."""
    with served.client() as http:
        deadline = time.monotonic() + 60  # the documents are listed once the server has warmed up
        while '<option value="agreement_07.txt">' not in (html := http.get("/").text):
            assert time.monotonic() < deadline, "the chat page lists no documents"
            time.sleep(0.2)
        http.headers["x-csrf-token"] = re.search(r'<meta name="csrf-token" content="([^"]+)">', html).group(1)
        yield http


def _ask(http, question: str, document: str) -> dict:
    """The `done` event of /api/ask for ``question`` scoped to ``document``."""
    with http.stream("POST", "/api/ask", json={"question": question, "document": document}) as r:
        assert r.status_code == 200
        event = None
        for line in r.iter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: ") and event in ("done", "error"):
                data = json.loads(line.removeprefix("data: "))
                assert event == "done", data
                return data
    raise AssertionError("no done event")


def _correct(http, answer_id: int, label: str, clause: str) -> None:
    text = f"Yes. {clause}" if label == "Yes" else "No."
    r = http.post("/api/feedback", json={"answer_id": answer_id, "kind": "edit", "edited_answer": text})
    assert r.status_code == 200 and r.json()["saved"]


def _round(root) -> dict:
    result = CliRunner().invoke(app, ["tune", "loop", "-p", str(root), "--rounds", "1", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["rounds"][-1]


@pytest.fixture(scope="module")
def corrected(tmp_path_factory):
    """A served contracts project of the 40 agreements, answering yes/no with the verdict champion (the untuned
    reader until there is one); every (question, agreement) asked on the web app and corrected."""
    from ragtune import Project

    root = tmp_path_factory.mktemp("loop-reader")
    labels = [json.loads(line) for line in write_agreements(root).read_text().splitlines()]
    proj = Project.init(root / "p", domain="contracts")
    proj.ingest([root / "docs"])
    proj.close()
    data = yaml.safe_load((root / "p" / "ragtune.yaml").read_text())
    data["answer"].update({"verdicts": "champion", "scorer": "champion"})
    data["training"]["reranker"].update(SMALL)
    data["training"]["loop"].update({"stages": ["reader"], "bootstrap_samples": 1000})
    (root / "p" / "ragtune.yaml").write_text(yaml.safe_dump(data))
    served = start_server(root / "p")
    with _browser(served) as http:
        asked = [(row, _ask(http, row["question"], row["document"])) for row in labels]
        for row, done in asked:
            _correct(http, done["answer_id"], row["label"], (row["contexts"] or [""])[0])
    yield served, asked
    stop_server(served)


def test_web_app_corrections_retrain_the_reader_and_the_gate_promotes_it(corrected):
    served, asked = corrected
    record = _round(served.root)
    reader = record["reader"]
    assert record["decision"] == "promoted" and reader["feedback_rows"] == len(asked) == 120
    models = {m["model"]: m for m in reader["models"]}
    assert set(models) == {"verdicts", "scorer"}
    for m in models.values():
        assert (m["decision"], m["version"]["status"]) == ("promoted", "champion")
        assert m["after"] > m["before"] and m["gate"]["ci_low"] > 0
    held = {Path(d).name for d in reader["heldout"]["documents"]}
    assert len(held) == 12 and not held & {Path(d).name for d in models["verdicts"]["version"]["metrics"]["trained_on"]}
    # the server answers with the promoted verdicts from now on: on the held-out agreements, more right than before
    with _browser(served) as http:
        now = [(row, _ask(http, row["question"], row["document"])) for row, _ in asked if row["document"] in held]
    before = {(row["question"], row["document"]): done["answer"] for row, done in asked}

    def right(row: dict, text: str) -> bool:
        return parse_yes_no(text) == (row["label"] == "Yes")

    assert sum(right(r, d["answer"]) for r, d in now) > sum(right(r, before[r["question"], r["document"]])
                                                              for r, _ in now)
    assert {q for q in CLAUSES} == {r["question"] for r, _ in now}


def test_a_round_on_shuffled_corrections_is_rejected_and_the_champions_stay(corrected):
    from ragtune import Project

    served, asked = corrected
    champions = {kind: Project(served.root).registry.champion(kind).id for kind in ("verdicts", "scorer")}
    said = [row["label"] for row, _ in asked]
    random.Random(0).shuffle(said)
    with _browser(served) as http:
        for (row, done), label in zip(asked, said, strict=True):
            _correct(http, done["answer_id"], label, (row["contexts"] or [""])[0])
    record = _round(served.root)
    assert record["decision"] == "rejected"
    registry = Project(served.root).registry
    for m in record["reader"]["models"]:
        assert (m["decision"], m["version"]["status"], m["champion"]) == ("rejected", "rejected", champions[m["model"]])
        assert registry.champion(m["model"]).id == champions[m["model"]]
    shown = " ".join(CliRunner().invoke(app, ["tune", "loop", "-p", str(served.root), "--history"]).output.split())
    assert "reader verdicts" in shown and "-> promoted" in shown and "-> rejected" in shown
