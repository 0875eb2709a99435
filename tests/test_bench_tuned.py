"""Fine-tuned arms: a tiny SFT version (3 steps on the test SFT data) benchmarked closed-book and with RAG."""

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
