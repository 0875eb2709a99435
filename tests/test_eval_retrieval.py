import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragtune.cli.main import app
from ragtune.datasets.beir import load_beir
from ragtune.datasets.cuad import contract_label, cuad_to_beir, locate, normalised
from ragtune.errors import InputError
from ragtune.evaluation.retrieval import ir_metrics
from ragtune.evaluation.spans import span_precision_recall
from ragtune.project import evaluate_retrieval, retrieval_evaluation

DATA = Path(__file__).parent / "data"
DEMO = Path(__file__).parents[1] / "src" / "ragtune" / "demo" / "corpus"

CORPUS = [
    ("d1", "Warranty", "The warranty lasts twenty-four months from delivery."),
    ("d2", "Payment", "Invoices are payable within thirty days of receipt."),
    ("d3", "Governing law", "This agreement is governed by the laws of the State of Delaware."),
    ("d4", "Termination", "Either party may terminate with ninety days written notice."),
    ("d5", "Confidentiality", "Each party keeps the other party's information confidential."),
]
QUERIES = {"q1": "How long does the warranty last?", "q2": "Which state's laws govern the agreement?",
           "q3": "When are invoices payable?"}
QRELS = {"q1": "d1", "q2": "d3", "q3": "d2"}


def write_beir(root: Path, spans: bool = False) -> Path:
    """The five records as passages of one document "contract" (each 100 characters after the previous)."""
    (root / "qrels").mkdir(parents=True)
    with (root / "corpus.jsonl").open("w") as f:
        for i, (doc_id, title, text) in enumerate(CORPUS):
            f.write(json.dumps({"_id": doc_id, "title": title, "text": text,
                                "metadata": {"document": "contract", "start": 100 * i}}) + "\n")
    (root / "queries.jsonl").write_text("".join(json.dumps({"_id": q, "text": t}) + "\n" for q, t in QUERIES.items()))
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" +
                                             "".join(f"{q}\t{d}\t1\n" for q, d in QRELS.items()))
    if spans:  # q1's gold span: "twenty-four months" inside d1
        start = CORPUS[0][2].index("twenty-four months")
        (root / "spans.jsonl").write_text(json.dumps({"query-id": "q1", "document": "contract", "start": start,
                                                      "end": start + len("twenty-four months")}) + "\n")
    return root


def test_ir_metrics_hand_computed():
    qrels = {"q1": {"d1": 1, "d3": 1}, "q2": {"d5": 1}, "q3": {"d4": 1}}
    run = {"q1": {"d2": 4.0, "d1": 3.0, "d4": 2.0, "d3": 1.0}, "q2": {"d5": 1.0}, "q3": {"d1": 2.0, "d2": 1.0}}
    means, per_query = ir_metrics(qrels, run)
    # q1: relevant at ranks 2 and 4. DCG = 1/log2(3) + 1/log2(5); ideal = 1 + 1/log2(3)
    ndcg_q1 = (0.6309298 + 0.4306766) / 1.6309298
    assert per_query["q1"]["ndcg@10"] == pytest.approx(ndcg_q1, abs=1e-4)
    assert per_query["q1"]["mrr@10"] == 0.5 and per_query["q1"]["map"] == pytest.approx((1 / 2 + 2 / 4) / 2)
    assert per_query["q3"] == {"ndcg@10": 0, "recall@10": 0, "recall@100": 0, "mrr@10": 0, "map": 0}
    assert means["ndcg@10"] == pytest.approx((ndcg_q1 + 1) / 3, abs=1e-4)
    assert means["recall@10"] == means["recall@100"] == pytest.approx(2 / 3, abs=1e-4)
    assert means["mrr@10"] == pytest.approx(0.5) and means["map"] == pytest.approx(0.5)


def test_span_precision_recall_hand_computed():
    retrieved = [("a", 0, 10), ("a", 5, 15), ("b", 0, 10)]  # union: a[0,15) + b[0,10) = 25 characters
    gold = [("a", 10, 20), ("a", 12, 18)]  # union: a[10,20) = 10 characters; overlap a[10,15) = 5
    assert span_precision_recall(retrieved, gold) == pytest.approx((5 / 25, 5 / 10))
    assert span_precision_recall([], gold) == (0.0, 0.0)
    assert span_precision_recall([("a", 10, 20)], gold) == (1.0, 1.0)


def test_eval_on_a_beir_folder_and_the_index_cache(tmp_path):
    data = write_beir(tmp_path / "beir", spans=True)
    cache = tmp_path / "cache"
    report = evaluate_retrieval(data, ["bm25", "hybrid"], cache_dir=cache, span_ks=(1,))
    assert report.index.documents_indexed == 5 and report.index.documents == 5 and report.queries == 3
    bm25, hybrid = report.results
    assert bm25.pipeline == "bm25" and bm25.metrics["mrr@10"] == 1.0 and bm25.metrics["ndcg@10"] == 1.0
    assert set(hybrid.stage_ms_p50) == {"hybrid"} and hybrid.latency_ms_p50 > 0 and hybrid.queries == 3
    # q1's top chunk is d1 (its title is indexed with it but is not part of the document's characters)
    gold = len("twenty-four months")
    assert bm25.metrics["span_precision@1"] == pytest.approx(gold / len(CORPUS[0][2]), abs=1e-4)
    assert bm25.metrics["span_recall@1"] == 1.0
    chunk = retrieval_evaluation(data, cache_dir=cache).scratch.pipeline("bm25").run("warranty").hits[0].chunk
    assert chunk.text == f"Warranty\n\n{CORPUS[0][2]}" and (chunk.start, chunk.end) == (0, len(CORPUS[0][2]))

    again = retrieval_evaluation(data, cache_dir=cache, span_ks=(1,))
    assert again.index().documents_indexed == 0  # cached: nothing re-embedded
    assert again.run("bm25").metrics == bm25.metrics
    again.close()
    from ragtune.project import ProjectConfig

    other = ProjectConfig.model_validate({"chunker": {"name": "token_window", "chunk_tokens": 64}})
    assert retrieval_evaluation(data, other, cache_dir=cache).root != again.root  # new chunker, new index


def test_cli_json(tmp_path, monkeypatch):
    data = write_beir(tmp_path / "beir")
    monkeypatch.setenv("RAGTUNE_CACHE", str(tmp_path / "cache"))
    result = CliRunner().invoke(app, ["eval", "retrieval", "--data", str(data), "--pipeline", "bm25",
                                      "--pipeline", "bm25+dedupe", "--limit", "2", "-p", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["queries"] == 2 and [r["pipeline"] for r in out["results"]] == ["bm25", "bm25+dedupe"]
    for row in out["results"]:
        assert {"pipeline", "ndcg@10", "recall@10", "recall@100", "mrr@10", "map", "latency_ms_p50"} <= row.keys()
    assert [(c["a"], c["b"], c["n"]) for c in out["comparisons"]] == [("bm25+dedupe", "bm25", 2)]
    assert any((tmp_path / "cache" / "beir").iterdir())
    table = CliRunner().invoke(app, ["eval", "retrieval", "--data", str(data), "--pipeline", "bm25",
                                     "-p", str(tmp_path)])
    assert table.exit_code == 0 and "nDCG@10" in table.stdout and "indexed" not in table.stdout  # index reused


@pytest.mark.parametrize("break_it,message", [
    (lambda d: (d / "qrels" / "test.tsv").unlink(), r"qrels/test\.tsv: no such file"),
    (lambda d: (d / "corpus.jsonl").write_text('{"_id": "d1", "text": "ok"}\n{"_id": "d2", "text": \n'),
     r"corpus\.jsonl line 2: invalid JSON"),
    (lambda d: (d / "queries.jsonl").write_text('{"_id": "q1"}\n'),
     r"queries\.jsonl line 1: missing or invalid 'text'"),
    (lambda d: (d / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\n"),
     r"test\.tsv line 2: expected 3 tab-separated columns"),
])
def test_bad_input_names_file_and_line(tmp_path, break_it, message):
    data = write_beir(tmp_path / "beir")
    break_it(data)
    with pytest.raises(InputError, match=message):
        load_beir(data)
    result = CliRunner().invoke(app, ["eval", "retrieval", "--data", str(data), "-p", str(tmp_path)])
    assert result.exit_code == 1 and "error:" in result.output


def test_whitespace_insensitive_location():
    text = "Governing  law.\nThis Agreement shall be\n  governed by Delaware law."
    norm, offsets = normalised(text)
    start, end = locate("This Agreement shall be governed by Delaware law.", norm, offsets)
    assert text[start:end] == "This Agreement shall be\n  governed by Delaware law."
    assert locate("New York", norm, offsets) is None


def test_contract_label():
    assert contract_label("X", "SPONSORSHIP AGREEMENT", 'drkoop.com, inc."drkoop.com"; Vitamin Shoppe Inc. "Sponsor"') \
        == "Sponsorship Agreement between drkoop.com, inc. and Vitamin Shoppe Inc."
    assert contract_label("ACME_01_01_2000-EX-10.1-Supply Agreement", "", "") == "Supply Agreement"


def test_cuad_to_beir_on_two_contracts(tmp_path):
    src = tmp_path / "cuad"
    (src / "contracts").mkdir(parents=True)
    shutil.copy(DATA / "cuad_slice" / "qa.jsonl", src / "qa.jsonl")
    rows = [json.loads(line) for line in (src / "qa.jsonl").read_text().splitlines()]
    for name in {r["contract"] for r in rows}:
        shutil.copy(DEMO / f"{name}.txt", src / "contracts" / f"{name}.txt")
    result = cuad_to_beir(src, tmp_path / "out", passage_tokens=96, test_fraction=0.5)
    assert result.contracts == 2 and result.rows_without_clause == 1
    assert result.train_queries + result.test_queries == result.queries == len(rows) - 1
    assert len(result.test_contracts) == 1
    out = tmp_path / "out"
    assert "CC BY 4.0" in (out / "README.md").read_text()

    test, train = load_beir(out, "test"), load_beir(out, "train")
    assert set(test.corpus) == set(train.corpus) and len(test.corpus) == result.passages
    split_of = {json.loads(line)["metadata"]["contract"]: json.loads(line)["metadata"]["split"]
                for line in (out / "queries.jsonl").read_text().splitlines()}
    assert sorted(split_of.values()) == ["test", "train"]  # one contract each: no contract in both splits
    golf = "WOMENSGOLFUNLIMITEDINC_03_29_2000-EX-10.13-ENDORSEMENT AGREEMENT"
    text = (src / "contracts" / f"{golf}.txt").read_text()
    passages = sorted((d.start, d.text) for d in test.corpus.values() if d.document == golf)
    assert all(text[s: s + len(t)] == t for s, t in passages)  # offsets point into the contract
    assert all(a + len(t) <= b for (a, t), (b, _) in zip(passages, passages[1:], strict=False))  # no overlap
    for ds in (test, train):
        for qid, relevant in ds.qrels.items():
            assert ds.queries[qid].startswith("Consider the ") and "; " in ds.queries[qid]
            for doc_id in relevant:  # every relevant passage overlaps one of the query's gold spans
                doc = ds.corpus[doc_id]
                assert any(s.document == doc.document and s.start < doc.start + len(doc.text) and doc.start < s.end
                           for s in ds.spans[qid])
    law = next(q for q in [*test.queries.values(), *train.queries.values()] if "law governs" in q and "KATHY" in q)
    assert law.startswith("Consider the Endorsement Agreement between SQUARE TWO GOLF INC. and KATHY WHITWORTH; ")
