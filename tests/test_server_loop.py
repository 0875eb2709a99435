"""A round of the loop from the web app: corrections typed on the chat page become DPO pairs, the dashboard's
button runs `ragtune tune loop` in its own process, the gate promotes or rejects the candidate on the frozen
held-out set, and the model the server answers with changes only when the candidate was promoted."""

import json
from pathlib import Path

import pytest
import yaml

from conftest import start_server, stop_server

CHROMIUM = Path("/usr/bin/chromium")
FACTS = [("What is the code name of the Acme merger?", "Bluebird", "The code name of the Acme merger is Bluebird."),
         ("Which city hosts the Zentek data center?", "Tromso", "The Zentek data center is in Tromso."),
         ("Who signs contracts for Norvale Inc?", "Ingrid Falk", "Norvale Inc contracts are signed by Ingrid Falk.")]

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (.ci/run installs it)")]


@pytest.fixture
def loop_server(tmp_path):
    """A project whose held-out set is FACTS (closed-book), set up to train a DPO round fast on 1 thread."""
    from ragtune import Project

    project = Project.init(tmp_path / "loop")
    data = yaml.safe_load(project.config_path.read_text(encoding="utf-8"))
    data["llm"].update({"max_tokens": 10, "threads": 1})
    fast = {"threads": 1, "save_steps": 1000, "batch_size": 3, "evaluate": False}
    data["training"]["sft"].update(fast | {"learning_rate": 1e-3, "max_steps": 30, "lr_scheduler": "constant",
                                           "warmup_ratio": 0.0, "merge": False})
    data["training"]["dpo"].update(fast | {"learning_rate": 1e-3, "max_steps": 2, "max_length": 96})
    data["training"]["loop"].update({"stages": ["sft", "dpo"], "bootstrap_samples": 1000})
    project.config_path.write_text(yaml.safe_dump(data), encoding="utf-8")
    folder = project.workdir / "datasets" / "synth"
    folder.mkdir(parents=True)
    (folder / "train.jsonl").write_text(json.dumps({"id": "t1", "question": "What is the notice period?",
                                                    "answer": "Thirty days"}) + "\n", encoding="utf-8")
    (folder / "test.jsonl").write_text("".join(json.dumps({"id": f"h{i}", "question": q, "answer": a}) + "\n"
                                               for i, (q, a, _) in enumerate(FACTS)), encoding="utf-8")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "facts.txt").write_text("\n\n".join(s for _, _, s in FACTS) + "\n", encoding="utf-8")
    project.ingest([docs])
    project.close()
    served = start_server(project.root)
    yield served
    stop_server(served)


def _correct_and_run_a_round(page, served, corrections: list[str]) -> tuple[dict, str]:
    """On the chat page, ask each held-out question and save a correction; then run a loop round from the
    dashboard. Returns the round's record and the row the dashboard shows for it."""
    for (question, _, _), correction in zip(FACTS, corrections, strict=True):
        page.goto(served.url + "/")
        page.fill("#question", question)
        page.click("#ask")
        page.wait_for_selector("body[data-state=answered]", timeout=60_000)
        page.fill(".feedback .edit", correction)
        page.click(".feedback .save-edit")
        page.wait_for_selector(".feedback[data-saved=edit]")
    page.goto(served.url + "/dashboard")
    rounds_before = page.locator("#rounds tr").count()
    page.click("#run-loop")
    page.wait_for_selector("body[data-state=loop-finished]", timeout=900_000)
    page.wait_for_load_state("load")
    page.wait_for_selector(f"#rounds tr:nth-child({rounds_before + 1})")
    row = page.inner_text(f"#rounds tr:nth-child({rounds_before + 1})")
    record = json.loads((served.root / ".ragtune" / "models" / "loop.json").read_text())["rounds"][-1]
    return record, row


def _served_model(served) -> str:
    with served.client() as http:
        r = http.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": FACTS[0][0]}]})
    return r.json()["ragtune"]["model"]


def test_loop_rounds_from_the_dashboard_change_the_served_model_only_when_promoted(loop_server):
    from playwright.sync_api import sync_playwright

    from ragtune.model_registry import ModelRegistry

    served, store = loop_server, loop_server.state.project.feedback
    registry = ModelRegistry(served.root / ".ragtune")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.goto(served.url + "/dashboard")
        assert page.inner_text("#champion") == "base" and _served_model(served) == "fast"

        # round 1: the right short answers -> SFT then DPO on them; the held-out gain is real: promoted
        first, row = _correct_and_run_a_round(page, served, [f"{short}." for _, short, _ in FACTS])
        assert first["feedback"]["sft_rows"] == first["feedback"]["dpo_rows"] == len(FACTS)
        assert [t["kind"] for t in first["trained"]] == ["sft", "dpo"]  # the candidate is the DPO version
        assert first["decision"] == "promoted" and "promoted" in row, first["reason"]
        assert registry.champion("llm").id == first["candidate"] == _served_model(served)
        assert page.inner_text("#champion") == first["candidate"]

        # round 2: garbage corrections, DPO only (faster) -> no gain: rejected, the champion keeps serving
        config = yaml.safe_load((served.root / "ragtune.yaml").read_text(encoding="utf-8"))
        config["training"]["loop"]["stages"] = ["dpo"]  # the loop's process reads ragtune.yaml afresh
        (served.root / "ragtune.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
        second, row = _correct_and_run_a_round(page, served, ["Purple monkey dishwasher."] * len(FACTS))
        assert second["decision"] == "rejected" and "rejected" in row, second["reason"]
        assert [t["kind"] for t in second["trained"]] == ["dpo"]
        assert registry.get(second["candidate"]).status == "rejected"
        assert registry.champion("llm").id == first["candidate"] == _served_model(served)
        browser.close()
    assert len(store.feedback(kinds=["edit"])) == 2 * len(FACTS)
