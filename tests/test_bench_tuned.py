"""Fine-tuned arms: a tiny SFT version (3 steps on the test SFT data) benchmarked closed-book and with RAG; the
reader `tune reader` promoted on test_tune_reader's agreements benchmarked as `rag+tuned` beside `rag`."""

import json
from pathlib import Path

import pytest
import yaml

from ragtune.errors import InputError
from ragtune.evaluation.bench import run_bench

pytestmark = pytest.mark.slow
SFT_DATA = Path(__file__).parent / "data" / "sft"
QA = """question,answer
How many days of paid vacation do employees receive per year?,twenty-five (25) days
What is the recipe for chocolate cake?,
"""


@pytest.fixture(scope="module")
def tuned(tmp_path_factory, corpus):
    from ragtune import Project
    from ragtune.training.sft import LoRASFT

    root = tmp_path_factory.mktemp("tuned") / "p"
    proj = Project.init(root)
    proj.ingest([corpus])
    data = yaml.safe_load(proj.config_path.read_text(encoding="utf-8"))
    data["training"] = {"sft": {"batch_size": 2, "max_steps": 3, "save_steps": 3, "learning_rate": 1e-3,
                                "dataset": str(SFT_DATA), "merge": False, "evaluate": False}}
    proj.config_path.write_text(yaml.safe_dump(data), encoding="utf-8")
    proj.close()
    proj = Project(root)
    LoRASFT(proj.training_resources).run()
    qa = root / "qa.csv"
    qa.write_text(QA, encoding="utf-8")
    yield proj, qa
    proj.close()


def test_fine_tuned_arms(tuned):
    from ragtune.model_registry import ModelRegistry

    proj, qa = tuned
    # the measured training the cost model reads from the version: seconds, tokens, examples
    version = ModelRegistry(proj.workdir).update_metrics("v1", {"seconds": 36.0, "tokens": 5000,
                                                                "examples": {"train": 10}})
    results = run_bench(proj.bench_system, ["base", "sft", "rag+sft"], qa)
    base, sft, rag_sft = results["arms"]
    assert (sft["name"], sft["fine_tuned"], sft["retrieves"]) == ("sft", True, False)
    assert (rag_sft["name"], rag_sft["fine_tuned"], rag_sft["retrieves"]) == ("rag+sft", True, True)
    assert sft["usage"]["price_key"] == version.id == "v1"
    assert sft["usage"]["training_hours"] == pytest.approx(0.01) and sft["usage"]["training_examples"] == 10
    # laptop-cpu: 0.01 h x $0.089/h + 10% of 10 examples reviewed at $0.50
    assert sft["cost"]["refresh_usd"] == pytest.approx(0.01 * 0.089 + 0.5)
    assert base["cost"]["refresh_usd"] == 0 and rag_sft["cost"]["refresh_usd"] > sft["cost"]["refresh_usd"]
    assert rag_sft["tokens"]["prompt_mean"] > sft["tokens"]["prompt_mean"]
    with pytest.raises(InputError, match="no dpo model version"):
        run_bench(proj.bench_system, ["sft+dpo"], qa)
    # a question the version was trained on is refused (leakage check against its dataset)
    leaked = qa.with_name("leaked.csv")
    leaked.write_text("question,answer\nWhat monthly fee does Umbrella Health Systems pay Initech?,$12,000\n")
    with pytest.raises(InputError, match="near-duplicates"):
        run_bench(proj.bench_system, ["sft"], leaked)


def test_fine_tuned_arms_give_the_same_numbers_twice(tuned):
    """Two fresh runs answer every question again (llama.cpp greedy, fixed seed): the same answers and numbers."""
    proj, qa = tuned
    first, second = (run_bench(proj.bench_system, ["sft", "rag+sft"], qa, seed=3, run=f"twice-{i}") for i in (1, 2))
    assert [a["metrics"] for a in first["arms"]] == [a["metrics"] for a in second["arms"]]
    assert first["comparisons"] == second["comparisons"]
    answers = [[(k, a["answer"]) for k, a in q["arms"].items()] for q in first["per_question"]]
    assert answers == [[(k, a["answer"]) for k, a in q["arms"].items()] for q in second["per_question"]]


@pytest.fixture(scope="module")
def reader_bench(tmp_path_factory):
    """The 40 agreements of test_tune_reader in a contracts project, `tune reader` run once on their labels (both
    models promoted), then `rag` and `rag+tuned` benchmarked on the questions of the documents it held out."""
    from ragtune import Project
    from ragtune.training.reader import ReaderTuner
    from test_tune_reader import SMALL, write_agreements

    root = tmp_path_factory.mktemp("reader-bench")
    labels = write_agreements(root)
    proj = Project.init(root / "p", domain="contracts")
    proj.ingest([root / "docs"])
    proj.config.training.reranker = proj.config.training.reranker.model_copy(update=SMALL)
    proj.config.bench = proj.config.bench.model_copy(update={"metrics": ["answer_check", "token_f1"],
                                                             "primary_metric": "answer_check"})
    reader = proj.config.training.reader.model_copy(update={"questions": str(labels)})
    tuned = ReaderTuner(proj.training_resources, reader).run()
    held = set(tuned.heldout["documents"])
    qa = root / "heldout.jsonl"
    qa.write_text("".join(line + "\n" for line in labels.read_text().splitlines()
                          if json.loads(line)["document"] in held))
    results = run_bench(proj.bench_system, ["rag", "rag+tuned"], qa)
    yield proj, tuned, qa, results
    proj.close()


def test_the_tuned_reader_arm_answers_with_the_reader_champions(reader_bench):
    from ragtune.evaluation.arms import make_arms

    proj, tuned, _, results = reader_bench
    assert [m.decision for m in tuned.models] == ["promoted", "promoted"]
    champions = {m.model: m.version for m in tuned.models}
    rag, arm = results["arms"]
    assert (arm["name"], arm["fine_tuned"], arm["retrieves"]) == ("rag+tuned", True, True)
    assert (rag["fine_tuned"], rag["usage"]["training_hours"]) == (False, None)
    # its training cost: the champions' measured seconds, and the 84 labels of the 28 documents they learned from
    assert arm["usage"]["training_hours"] == pytest.approx(sum(v.metrics["seconds"] for v in champions.values()) / 3600)
    assert arm["usage"]["training_examples"] == 120 - tuned.heldout["pairs"] == 84
    assert arm["cost"]["refresh_usd"] > rag["cost"]["refresh_usd"]
    made = make_arms(proj.bench_system, ["rag+tuned:extract"])[0]
    assert made.label == "rag+tuned:extract" and made.strategy == "extract"
    assert {k: v["version"] for k, v in made.fingerprint()["reader"].items()} == {k: v.id for k, v in champions.items()}
    assert made.ask_options() | {"pipeline": None} == {"pipeline": None, "strategy": "extract",
                                                       **{k: v.id for k, v in champions.items()}}
    # the verdicts differ, and the tuned reader's are more often right
    said = [{a: q["arms"][a]["answer"].split(".")[0] for a in ("rag", "rag+tuned")} for q in results["per_question"]]
    assert sum(s["rag"] != s["rag+tuned"] for s in said) >= 5
    right = {a["name"]: a["metrics"]["answer_check"]["mean"] for a in results["arms"]}
    assert right["rag+tuned"] > right["rag"]


def test_ask_uses_the_reader_models_it_is_given(reader_bench):
    """`ragtune ask --scorer --verdicts` is what the arm asks: the same answer as the bench's."""
    from typer.testing import CliRunner

    from ragtune.cli.main import app

    proj, _, qa, results = reader_bench
    q = json.loads(qa.read_text().splitlines()[0])
    result = CliRunner().invoke(app, ["ask", q["question"], "-p", str(proj.root), "--json", "--filter",
                                      f"source=*{q['document']}", "--scorer", "champion", "--verdicts", "champion"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["answer"] == results["per_question"][0]["arms"]["rag+tuned"]["answer"]


def test_advise_names_the_reader_tuning_and_its_cost(reader_bench):
    from ragtune.report import write_report
    from ragtune.report.advise import advise
    from ragtune.report.analysis import analyse

    proj, _, _, results = reader_bench
    advice = advise(analyse(results), 0.5, "answer_check")
    (t,) = advice.tuning
    test = next(c for c in results["comparisons"] if c["metric"] == "answer_check")
    assert (t["tuned"], t["untuned"], t["training_examples"]) == ("rag+tuned", "rag", 84)
    assert t["diff"] == pytest.approx(-test["diff"] if test["a"] == "rag" else test["diff"]) and t["diff"] > 0
    assert t["paid"] == test["significant"]
    assert advice.tuning_text.startswith("Tuning paid for rag+tuned." if t["paid"] else "No tuning paid")
    assert f"{t['training_hours'] * 3600:.0f} s of training, 84 examples" in advice.tuning_text
    assert advice.tuning_text in advice.paragraphs
    html = Path(write_report(proj.workdir, results["run"])["html"]).read_text()
    assert "Which tuning paid" in html and "rag+tuned vs rag: +" in html


def test_without_reader_champions_the_arm_names_tune_reader(reader_bench, tmp_path):
    from ragtune import Project
    from ragtune.evaluation.arms import make_arms

    proj, _, _, _ = reader_bench
    empty = Project(proj.root, registry_dir=tmp_path)  # a registry with no version
    with pytest.raises(InputError, match="rag[+]tuned: no promoted reader model .* run `ragtune tune reader` first"):
        make_arms(empty.bench_system, ["rag", "rag+tuned"])
