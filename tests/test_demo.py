"""The end-to-end demo chain (ingest, answers, synth, SFT, bench of five arms, report) at toy size on the test
corpus, run twice: the second run reuses every finished step and gives the same numbers."""

from pathlib import Path

import pytest

from ragtune.demo.walkthrough import ARMS, Demo

pytestmark = pytest.mark.slow


def test_demo_chain_runs_and_reuses_finished_steps(tmp_path, corpus):
    demo = Demo(tmp_path / "demo", corpus=corpus)
    first = demo.run(limit=2, max_steps=2, n=12)
    demo.close()
    assert first["ingest"]["files_ingested"] > 0 and len(first["answers"]) == 4
    assert not first["dataset"]["reused"] and first["dataset"]["counts"]["test"] >= 1
    sft = first["sft"]
    assert not sft["reused"] and sft["train"]["steps"] == 2
    metrics = sft["version"]["metrics"]
    assert {"test_token_f1", "base_token_f1", "test_rouge_l", "base_rouge_l"} <= set(metrics)
    assert metrics["leakage"]["n_leaked"] == 0 and metrics["leakage"]["n_train"] > 0
    bench = first["bench"]
    assert [a["name"] for a in bench["arms"]] == ARMS and bench["leakage"]["checked"]
    assert Path(first["report"]["html"]).is_file()

    again = Demo(tmp_path / "demo", corpus=corpus)
    second = again.run(limit=2, max_steps=2, n=12)
    again.close()
    assert second["ingest"]["files_unchanged"] == first["ingest"]["files_ingested"]
    assert second["dataset"]["reused"] and second["sft"]["reused"]
    assert second["sft"]["version"]["id"] == sft["version"]["id"]
    assert [a["metrics"] for a in second["bench"]["arms"]] == [a["metrics"] for a in bench["arms"]]
