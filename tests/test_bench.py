"""A small real benchmark (base and rag, 3 questions) with the shipped models: resume, determinism, CLI,
and the HTML report rendered in headless Chromium."""

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragtune.cli.main import app
from ragtune.errors import InputError
from ragtune.evaluation.bench import bench_dir, run_bench
from ragtune.evaluation.questions import QuestionSet

QA = """question,answer
How many days of paid vacation do employees receive per year?,twenty-five (25) days
What is the monthly fee in the master services agreement?,"twelve thousand dollars ($12,000)"
What is the recipe for chocolate cake?,
Which state's law governs the master services agreement?,the State of New York
"""
CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.slow


class Interrupt(Exception):
    pass


@pytest.fixture(scope="module")
def qa(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bench") / "qa.csv"
    path.write_text(QA, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def bench(project, qa):
    """A bench interrupted after two answers, then resumed; returns the results and the resumed run's labels."""
    shutil.rmtree(bench_dir(project.workdir) / "t", ignore_errors=True)
    done: list[str] = []

    def stop_after_two(label: str) -> None:
        done.append(label)
        if len(done) == 2:
            raise Interrupt

    with pytest.raises(Interrupt):
        run_bench(project.bench_system, ["base", "rag:generate"], qa, limit=3, seed=1, run="t",
                  on_answer=stop_after_two)
    labels: list[str] = []
    results = run_bench(project.bench_system, ["base", "rag:generate"], qa, limit=3, seed=1, run="t",
                        on_answer=labels.append)
    return results, labels


def test_bench_resumes_without_redoing_finished_answers(project, bench):
    results, labels = bench
    assert sum(label.endswith("(saved)") for label in labels) == 2 and len(labels) == 6
    lines = (bench_dir(project.workdir) / "t" / "answers.jsonl").read_text().splitlines()
    assert len(lines) == 6


def test_bench_results(qa, bench):
    results, _ = bench
    assert results["test_set_sha256"] == QuestionSet.read(qa).limit(3).sha256 and results["n_questions"] == 3
    base, rag = results["arms"]
    assert (base["name"], rag["name"]) == ("base", "rag:generate") and rag["retrieves"] and not base["retrieves"]
    for arm in results["arms"]:
        f1 = arm["metrics"]["token_f1"]
        assert f1["n"] == 3 and f1["ci_low"] <= f1["mean"] <= f1["ci_high"]
        assert 0 < arm["latency_s_p50"] <= arm["latency_s_p95"] and arm["tokens"]["completion_total"] > 0
        assert arm["cost_per_query_usd"] > 0
    assert base["metrics"]["faithfulness"]["n"] == 0 and rag["metrics"]["context_recall"]["n"] == 2
    assert rag["tokens"]["prompt_mean"] > base["tokens"]["prompt_mean"]  # passages in the prompt
    assert rag["metrics"]["correct_refusal"]["mean"] == 1.0  # the cake question is refused
    assert "checked" in results["leakage"] and results["judge"]["model"] == "fast"
    calibration = results["judge"]["calibration"]  # the 135M judge is graded on 4 control answers first
    assert calibration["mode"] == "auto" and calibration["controls"] == 4
    assert all((a["metrics"]["answer_correctness"]["n"] == 0) != calibration["used"] for a in results["arms"])
    tests = [t for t in results["comparisons"] if t["metric"] == "token_f1"]
    assert len(tests) == 1 and tests[0]["n"] == 3
    assert {"mdd", "n_needed", "power"} <= set(tests[0])  # the test's power, at bench.alpha and bench.power


def test_same_seed_gives_the_same_numbers(project, qa, bench):
    first, _ = bench
    again = run_bench(project.bench_system, ["base", "rag:generate"], qa, limit=3, seed=1, run="t")
    assert [a["metrics"] for a in again["arms"]] == [a["metrics"] for a in first["arms"]]
    assert again["comparisons"] == first["comparisons"]
    # a fresh run answers again (temperature 0, fixed LLM seed): the same quality numbers
    shutil.rmtree(bench_dir(project.workdir) / "fresh", ignore_errors=True)
    fresh = run_bench(project.bench_system, ["rag:generate"], qa, limit=3, seed=1, run="fresh")
    assert fresh["arms"][0]["metrics"] == first["arms"][1]["metrics"]
    other_seed = run_bench(project.bench_system, ["base", "rag:generate"], qa, limit=3, seed=2, run="t")
    assert [a["metrics"]["token_f1"]["mean"] for a in other_seed["arms"]] == \
        [a["metrics"]["token_f1"]["mean"] for a in first["arms"]]


def test_a_run_keeps_its_question_set(project, qa, bench, tmp_path):
    changed = tmp_path / "qa.csv"
    changed.write_text(QA.replace("twenty-five (25) days", "25 days"), encoding="utf-8")
    with pytest.raises(InputError, match="hash to"):
        run_bench(project.bench_system, ["base"], changed, limit=3, run="t")
    # a smaller limit is a prefix of the same set: its answers are reused
    labels: list[str] = []
    fewer = run_bench(project.bench_system, ["base"], qa, limit=2, run="t", on_answer=labels.append)
    assert fewer["n_questions"] == 2 and labels == ["base (saved)"] * 2
    assert fewer["test_set_sha256"] == QuestionSet.read(qa).limit(2).sha256
    with pytest.raises(InputError, match="unknown bench arm 'finetuned'"):
        run_bench(project.bench_system, ["base", "finetuned"], qa, limit=3, run="t")


def test_bench_report_and_advise_cli(project, qa, bench):
    runner = CliRunner()
    r = runner.invoke(app, ["bench", "-p", str(project.root), "--arms", "base,rag", "--questions", str(qa),
                            "--limit", "3", "--seed", "1", "--run", "t", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert {"test_set_sha256", "n_questions", "report", "arms"} <= set(data) and Path(data["report"]).is_file()
    for arm in data["arms"]:
        assert {"name", "metrics", "latency_s_p50", "latency_s_p95", "tokens", "cost_per_query_usd",
                "cost_per_correct_usd"} <= set(arm)
        assert {"mean", "ci_low", "ci_high", "n"} <= set(arm["metrics"]["token_f1"])
    r = runner.invoke(app, ["advise", "-p", str(project.root), "--run", "t", "--queries-per-month", "50000",
                            "--target-f1", "0.6", "--data-changes", "monthly", "--json"])
    assert r.exit_code == 0, r.output
    advice = json.loads(r.stdout)
    assert advice["recommended"] in {"base", "rag"} and advice["headline"] and advice["queries_per_month"] == 50000
    r = runner.invoke(app, ["advise", "-p", str(project.root), "--queries-per-month", "10", "--target-f1", "0.5",
                            "--data-changes", "sometimes"])
    assert r.exit_code == 1 and "--data-changes" in r.output


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs the Debian chromium package")
def test_report_renders_all_plots_in_headless_chromium(project, bench, tmp_path):
    from playwright.sync_api import sync_playwright

    from ragtune.report import write_report

    paths = write_report(project.workdir, "t", tmp_path)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(Path(paths["html"]).as_uri())
        images = page.eval_on_selector_all("img", "els => els.map(e => [e.id, e.complete, e.naturalWidth])")
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        browser.close()
    assert [i[0] for i in images] == ["plot-quality", "plot-quality_vs_cost", "plot-cost_vs_volume", "plot-cadence",
                                      "plot-latency"]
    assert all(complete and width > 300 for _, complete, width in images)
    assert (tmp_path / "report.png").stat().st_size > 50_000


def test_bench_arm_names_an_answer_strategy(project, qa):
    results = run_bench(project.bench_system, ["rag:extract", "rag:naive:extract+generate"], qa, limit=3,
                        run="strategies")
    extract, extract_generate = results["arms"]
    assert (extract["name"], extract_generate["name"]) == ("rag:extract", "rag:naive:extract+generate")
    assert extract["tokens"]["completion_total"] == 0  # no LLM call
    assert extract["metrics"]["token_f1"]["n"] == 3 and extract["metrics"]["answer_check"]["n"] == 3
