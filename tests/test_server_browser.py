"""The web app in headless Chromium (Playwright, Debian's /usr/bin/chromium): ask and see the streamed answer and
its sources, vote with a comment (the draft survives a reload), correct the answer, a blind comparison whose
names appear only after the vote, the review queue; then each of them in the database and in the DPO export.
Screenshots go to the test's folder, and to docs/images/ with RAGTUNE_DOCS_SCREENSHOTS=1."""

import json
import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
DOCS_IMAGES = Path(__file__).resolve().parents[1] / "docs" / "images"
QUESTION = "How many days of paid vacation do employees receive per year?"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (.ci/run installs it)")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture
def shoot(tmp_path):
    def save(page, name: str) -> None:
        page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
        if os.environ.get("RAGTUNE_DOCS_SCREENSHOTS") == "1":
            DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(DOCS_IMAGES / f"{name}.png"), full_page=True)

    return save


def test_ask_vote_edit_compare_review_then_find_them_in_the_store_and_the_dpo_export(served, browser, shoot):
    store = served.state.project.feedback
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    # ask: the answer streams in, the sources sit beside it with the cited sentence highlighted
    page.goto(served.url + "/")
    page.fill("#question", QUESTION)
    page.click("#ask")
    page.wait_for_selector("body[data-state=answered]", timeout=60_000)
    assert "25" in page.text_content("#stream") or "twenty-five" in page.text_content("#stream").lower()
    assert "handbook.pdf" in page.inner_text("#result .sources")
    assert page.locator("#result .source.cited mark").count() >= 1
    answer_id = int(page.get_attribute("#result article.answer", "data-answer-id"))
    assert page.url.endswith(f"/?answer={answer_id}")
    shoot(page, "serve-chat")

    # a comment is a draft until it is sent: it survives a reload
    page.fill(".feedback .comment", "right number, cites the handbook")
    page.wait_for_selector("text=draft kept in this browser")
    page.reload()
    assert page.input_value(".feedback .comment") == "right number, cites the handbook"
    assert "draft restored" in page.inner_text(".feedback .status")
    page.click(".feedback .vote[data-rating=up]")
    page.wait_for_selector(".feedback[data-saved=rating]")
    assert "saved: thumbs up" in page.inner_text(".feedback .status")

    # a correction becomes a gold answer
    gold = "Employees receive twenty-five (25) days of paid vacation per year [1]."
    page.fill(".feedback .edit", gold)
    page.click(".feedback .save-edit")
    page.wait_for_selector(".feedback[data-saved=edit]")
    shoot(page, "serve-feedback")

    # blind A/B: the sides are drawn on the server; names only after the vote is stored
    page.goto(served.url + "/compare")
    page.fill("#question", QUESTION)
    targets = page.eval_on_selector_all("#first option", "els => els.map(e => e.value)")
    first, second = targets[0], next(t for t in targets if t.startswith("naive@"))
    page.select_option("#first", first)
    page.select_option("#second", second)
    page.select_option("#second-strategy", "generate")  # the LLM's answer against the extracted one
    page.click("#compare")
    page.wait_for_selector("body[data-state=ready]", timeout=60_000)
    sides = page.inner_text("#side-A") + page.inner_text("#side-B")
    assert "naive" not in sides and "pipeline" not in sides and page.inner_text("#reveal") == ""
    shoot(page, "serve-compare")
    before = len(store.feedback(kinds=["preference"]))
    page.click(".choice[data-choice=a]")
    page.wait_for_selector("body[data-state=voted]")
    reveal = page.inner_text("#reveal")
    assert "naive" in reveal and "saved: a" in page.inner_text("#vote-status")
    [pref] = store.feedback(kinds=["preference"])[before:]
    assert pref.preferred == "a"
    a, b = store.answer(pref.answer_a), store.answer(pref.answer_b)
    assert a.details["blind"]["side"] == "A" and b.details["blind"]["side"] == "B"
    assert f"A was {a.pipeline}@" in reveal
    shoot(page, "serve-compare-voted")

    # the review queue: an answer the AI judge rated down waits for people
    store.add_rating(pref.answer_b, "down", source="ai", judge_model="fast")
    page.goto(served.url + "/review")
    assert page.get_attribute(".review-item", "data-answer-id") is not None
    reviewed = int(page.get_attribute(".review-item", "data-answer-id"))
    assert "AI judge fast: thumbs down" in page.inner_text(".flags") or reviewed != pref.answer_b
    page.fill(".feedback .comment", "agree with the judge")
    page.click(".feedback .vote[data-rating=down]")
    page.wait_for_selector(".feedback[data-saved=rating]")
    shoot(page, "serve-review")

    # the dashboard exports the DPO dataset
    page.goto(served.url + "/dashboard")
    shoot(page, "serve-dashboard")
    page.click(".export[data-format=dpo]")
    page.wait_for_selector("#export-status a.download")
    path = Path(page.inner_text("#export-status").split(" written to ")[1].split(" ")[0])
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert errors == []

    # everything is in the database ...
    mine = [fb for fb in store.feedback() if answer_id in fb.answer_ids]
    assert [(f.kind, getattr(f, "rating", None)) for f in mine] == [("rating", "up"), ("edit", None)]
    assert mine[0].comment == "right number, cites the handbook" and mine[1].edited_answer == gold
    assert [f.rating for f in store.feedback(kinds=["rating"]) if f.answer_id == reviewed][-1] == "down"
    # ... and in the DPO export: the correction over the original, the blind vote's winner over the loser
    pairs = {(r["chosen"][0]["content"], r["rejected"][0]["content"]) for r in rows}
    assert (gold, store.answer(answer_id).answer) in pairs
    assert a.answer != b.answer and (a.answer, b.answer) in pairs
    context.close()
