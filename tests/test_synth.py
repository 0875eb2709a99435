"""Synthetic QA datasets: generators, rater, dedup, leakage check, splits, import, CLI (real small models)."""

from __future__ import annotations

import json
import random

import pytest
import yaml
from typer.testing import CliRunner

from ragtune import Project
from ragtune.cli.main import app
from ragtune.datasets import load_card, load_split
from ragtune.datasets.config import LLMGeneratorConfig, RaterConfig, SplitConfig
from ragtune.datasets.context import ChunkPool, SynthContext, document_name
from ragtune.datasets.dedup import NearDuplicateFilter
from ragtune.datasets.generators import Draft, Dropped, generators
from ragtune.datasets.leakage import check_leakage
from ragtune.datasets.parsing import ParseError, parse_qa
from ragtune.datasets.qa import SPLITS, QAPair
from ragtune.datasets.rater import Rater, parse_verdict
from ragtune.datasets.split import split_pairs
from ragtune.errors import InputError
from ragtune.generation.prompts import NO_ANSWER

ROW_KEYS = {"id", "question", "answer", "type", "chunk_ids", "sources", "rating"}


@pytest.fixture(scope="module")
def proj(tmp_path_factory, corpus):
    """A writable project of our own on the test corpus (the shared `project` fixture is read-only)."""
    project = Project.init(tmp_path_factory.mktemp("synth"))
    project.ingest([corpus])
    yield project
    project.close()


@pytest.fixture(scope="module")
def ctx(proj):
    rng = random.Random(0)
    return SynthContext(lambda: proj.llm, ChunkPool(proj.retrieval_resources, 30, rng), rng)


def _chunk(ctx, source_suffix: str, needle: str):
    return next(c for c in ctx.pool.chunks if c.doc_source.endswith(source_suffix) and needle in c.text)


def _draft(ctx, question: str, answer: str, chunks, type_: str = "factual") -> Draft:
    return Draft(QAPair(question, answer, type_, [c.id for c in chunks], [c.doc_source for c in chunks]), chunks)


def test_parse_qa_tolerates_small_model_output():
    assert parse_qa("Sure!\n**Question:** How long is the term?\n**Answer:** Three years.") == (
        "How long is the term?", "Three years.")
    assert parse_qa("What is the fee? $12,000 per month.") == ("What is the fee?", "$12,000 per month.")
    assert parse_qa("Question: A?\nAnswer: B\nQuestion: C?\nAnswer: D") == ("A?", "B")
    for bad, reason in (("Question: 9.12 Invalid Provisions\nAnswer:", "no_answer"), ("hello", "no_question")):
        with pytest.raises(ParseError) as e:
            parse_qa(bad)
        assert e.value.reason == reason


def test_parse_verdict():
    assert parse_verdict("Yes.") is True and parse_verdict("No, the text says otherwise") is False
    assert parse_verdict("The answer is correct") is None


def test_document_name_drops_file_name_noise():
    assert document_name("ACMEINC_08_11_2005-EX-10.5-Reseller Agreement") == "Reseller Agreement"
    assert document_name("CUROGROUP_05_04_2020-EX-10.3-SERVICING AGREEMENT") == "Servicing Agreement"
    assert document_name("Widget Supply Agreement") == "Widget Supply Agreement"


@pytest.mark.parametrize("type_", ["factual", "reasoning", "multi_hop", "unanswerable", "extractive"])
def test_each_generator_links_its_pair_to_chunks(ctx, proj, type_):
    cls = generators.get(type_)
    gen = cls(cls.Config(max_retries=2) if cls.Config is LLMGeneratorConfig else cls.Config(), ctx)
    needle = "material breach" if type_ == "reasoning" else "Term"
    supply = [c for c in ctx.pool.chunks if c.doc_source.endswith("supply_agreement.md")]
    reasons = []  # a 135M model may write nothing parseable three times on a chunk; then the next one is tried
    for chunk in sorted(supply, key=lambda c: needle not in c.text)[:3]:
        try:
            draft = gen.draft(chunk)
            break
        except Dropped as e:
            assert e.reason.startswith("unparsed_"), e.reason
            reasons.append(e.reason)
    else:
        pytest.fail(f"{type_}: no pair from {len(reasons)} chunks ({', '.join(reasons)})")
    pair = draft.pair
    assert pair.type == type_ and pair.question and pair.answer
    assert pair.chunk_ids[0] == chunk.id and pair.sources[0] == chunk.doc_source
    stored = {c.id: c for c in proj.store.chunks(pair.chunk_ids)}
    assert set(stored) == set(pair.chunk_ids)
    assert pair.sources == list(dict.fromkeys(stored[i].doc_source for i in pair.chunk_ids))
    if type_ == "multi_hop":
        assert len(pair.chunk_ids) == 2 and draft.fallback_answer
    if type_ == "unanswerable":
        assert pair.answer == NO_ANSWER
    if type_ == "extractive":
        assert pair.answer.split(" ...")[0] in " ".join(chunk.text.split())


def test_rater_rejects_with_reasons(ctx):
    rater = Rater(RaterConfig(judge="off"), ctx)
    supply = _chunk(ctx, "supply_agreement.md", "material breach")
    service = _chunk(ctx, "service_agreement.txt", "GOVERNING LAW")
    cases = {
        "question_too_short": ("Termination?", "Material breach."),
        "not_a_question": ("Tell me when a party may terminate the agreement", "For material breach."),
        "question_copied": ("Either party may terminate this Agreement for material breach if the breach is not "
                            "cured within sixty days?", "Yes."),
        "question_not_grounded": ("What colour are the delivery trucks of the supplier?", "Blue."),
        "answer_in_question": ("May a party terminate for material breach?", "Material breach."),
        "answer_not_supported": ("How may the Buyer terminate the Widget Supply Agreement?",
                                 "By paying a penalty of two million euros to the Supplier."),
        None: ("How much notice does the Buyer give to terminate the Supply Agreement for convenience?",
               "One hundred eighty (180) days notice."),
    }
    for expected, (q, a) in cases.items():
        rating = rater.rate(_draft(ctx, q, a, [supply]))
        assert rating.accepted is (expected is None), (expected, rating)
        assert rating.reason == (expected or "rules")
    one_sided = _draft(ctx, "Which days of notice end the Supply Agreement for convenience?",
                       "One hundred eighty (180) days.", [supply, service], "multi_hop")
    assert rater.rate(one_sided).reason == "single_chunk"
    answerable = _draft(ctx, "What is the term of the Widget Supply Agreement?", NO_ANSWER, [supply], "unanswerable")
    assert rater.rate(answerable).reason == "possibly_answerable"
    unanswerable = _draft(ctx, "Which insurance policy must the Supplier hold for its widget warehouses?",
                          NO_ANSWER, [supply], "unanswerable")
    assert rater.rate(unanswerable).accepted


def test_near_duplicates_are_removed(proj):
    kept = NearDuplicateFilter(proj.embedder, 0.9).filter([
        "What is the term of the supply agreement?",
        "What is the term of the supply agreement ?",
        "How long is the term of the supply agreement?",
        "Which state's law governs the services agreement?",
    ])
    assert 0 in kept and 1 not in kept and 3 in kept


def test_check_leakage_on_a_hand_made_case(proj):
    train = ["What is the monthly fee under the services agreement?", "Who is the supplier of widgets?"]
    test = ["What's the monthly fee under the services agreement?", "How often must the spindle be oiled?"]
    report = check_leakage(train, test, proj.embedder, 0.85)
    assert (report.n_train, report.n_test, report.n_leaked) == (2, 2, 1)
    (t, r, sim), = report.pairs
    assert (t, r) == (0, 0) and sim >= 0.85 and report.max_similarity == pytest.approx(sim)
    assert report.to_dict()["pairs"][0]["test_question"] == test[0]
    assert check_leakage(train, test[1:], proj.embedder, 0.85).ok


def _pairs_over_documents(n_docs: int = 5, per_doc: int = 6) -> list[QAPair]:
    topics = ["fees", "term", "governing law", "termination", "warranty", "confidentiality", "notices", "audits"]
    pairs = [QAPair(f"Question {i} about the {topics[i % len(topics)]} of document {d}, clause {i * 7 + d}?",
                    f"Answer {i}.", "factual", [f"d{d}-c{i}"], [f"doc{d}.txt"])
             for d in range(n_docs) for i in range(per_doc)]
    pairs.append(QAPair("How do the fees of document 0 relate to the term of document 1?", "Both.", "multi_hop",
                        ["d0-c0", "d1-c0"], ["doc0.txt", "doc1.txt"]))
    return pairs


def test_split_by_document_keeps_each_document_in_one_split(proj):
    pairs = _pairs_over_documents()
    config = SplitConfig(by="document", validation=0.2, test=0.2, leakage_threshold=0.98)  # templated questions
    result = split_pairs(pairs, config, proj.embedder, seed=0)
    docs = {s: {src for p in result.splits[s] for src in p.sources} for s in SPLITS}
    assert all(docs[s] for s in SPLITS)
    assert not (docs["train"] & docs["test"]) and not (docs["train"] & docs["validation"])
    assert not (docs["test"] & docs["validation"])
    kept = sum(len(v) for v in result.splits.values()) + len(result.removed)
    assert kept == len(pairs)
    spanning = pairs[-1]
    placed = [s for s in SPLITS if spanning in result.splits[s]]
    assert placed or (spanning, "spans_splits") in result.removed
    assert all(result.leakage[s].ok for s in ("validation", "test"))
    again = split_pairs(pairs, config, proj.embedder, seed=0)
    assert [p.id for p in again.splits["test"]] == [p.id for p in result.splits["test"]]


def test_split_by_question_never_separates_near_duplicates(proj):
    pairs = _pairs_over_documents(2, 10)
    twin = QAPair(pairs[0].question.replace("?", " ?"), "Same.", "factual", ["x"], ["doc0.txt"])
    config = SplitConfig(validation=0.2, test=0.2, leakage_threshold=0.98)
    result = split_pairs([*pairs, twin], config, proj.embedder, seed=1)
    where = {p.id: s for s in SPLITS for p in result.splits[s]}
    assert where[twin.id] == where[pairs[0].id]
    assert result.splits["test"] and result.splits["validation"]
    assert all(result.leakage[s].ok for s in ("validation", "test"))


def test_synthesize_end_to_end(proj):
    proj.config.datasets.rater.judge_controls = 2
    report = proj.synthesize(n=8, name="synth", seed=0)
    card = report.card
    assert report.path == proj.workdir / "datasets" / "synth"
    for f in ("train.jsonl", "validation.jsonl", "test.jsonl", "rejected.jsonl", "card.json", "card.md", "hf"):
        assert (report.path / f).exists(), f
    rows = {s: load_split(proj.workdir, "synth", s) for s in SPLITS}
    assert sum(map(len, rows.values())) == card["counts"]["total"] > 0
    chunk_ids = set(proj.store.indexed_chunks()[0])
    for row in (r for split in rows.values() for r in split):
        assert set(row) == ROW_KEYS and row["rating"]["accepted"]
        assert row["chunk_ids"] and set(row["chunk_ids"]) <= chunk_ids and row["sources"]
    for row in load_split(proj.workdir, "synth", "rejected"):
        assert not row["rating"]["accepted"] and row["rating"]["reason"]
    assert card["judge"]["mode"] == "auto" and "accuracy" in card["judge"]
    assert card["attempts"]["rated"] >= card["attempts"]["accepted"] == card["counts"]["total"] + sum(
        n for r, n in card["rejections"].items() if r in ("leaks_into_train", "spans_splits"))
    assert card["leakage"]["test"]["n_leaked"] == 0 and card["leakage"]["validation"]["n_leaked"] == 0
    assert sum(card["rejections"].values()) == len(load_split(proj.workdir, "synth", "rejected"))
    assert load_card(proj.workdir, "synth")["seed"] == 0 and card["generator"].startswith("llama_cpp:")
    assert len(card["warnings"]) == 1 and "fewer than 60" in card["warnings"][0]  # 8 pairs: a tiny test split
    from datasets import load_from_disk

    hf = load_from_disk(str(report.path / "hf"))
    assert {s: len(hf[s]) for s in SPLITS} == {s: len(rows[s]) for s in SPLITS}
    assert "Leakage check" in (report.path / "card.md").read_text()


def test_extractive_only_needs_no_generation_llm(proj):
    cfg = proj.config.datasets
    cfg.rater.judge, cfg.synth.min_chunk_tokens = "off", 8
    try:
        report = proj.synthesize(n=10, name="extractive", types=["extractive"], split_by="document", seed=3)
    finally:
        cfg.rater.judge, cfg.synth.min_chunk_tokens = "auto", 30
    assert report.card["usage"] == {} and report.card["generator"].startswith("none")
    assert set(report.card["by_type"]) == {"extractive"} and report.counts["total"] >= 6
    splits = {s: {src for r in load_split(proj.workdir, "extractive", s) for src in r["sources"]} for s in SPLITS}
    assert not (splits["train"] & splits["test"])


def test_unknown_type_and_bad_name(proj):
    with pytest.raises(InputError, match="unknown question type"):
        proj.synthesize(n=2, types=["trivia"])
    with pytest.raises(InputError, match="dataset name"):
        proj.synthesize(n=2, name="../evil", types=["extractive"])


def test_import_validates_and_writes(proj, tmp_path):
    bad = tmp_path / "qa.csv"
    bad.write_text("question,answer\nWhat is the term?,Three years.\nWho pays?,\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"qa\.csv line 3: empty 'answer'"):
        proj.import_qa(bad)
    wrong = tmp_path / "cols.csv"
    wrong.write_text("query,response\nWhat?,That.\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"cols\.csv line 2: missing 'question' and missing 'answer'.*'query'"):
        proj.import_qa(wrong)
    broken = tmp_path / "qa.jsonl"
    broken.write_text('{"question": "Q1?", "answer": "A1"}\n{"question": "Q2?", \n', encoding="utf-8")
    with pytest.raises(InputError, match=r"qa\.jsonl line 2: not valid JSON"):
        proj.import_qa(broken)
    with pytest.raises(InputError, match="expected a .csv or .jsonl"):
        proj.import_qa(_touch(tmp_path / "qa.txt"))

    good = tmp_path / "good.csv"
    questions = [f"What does clause {i} of the supply agreement say about {w}?" for i, w in
                 enumerate(["fees", "term", "law", "notices", "breach", "renewal", "audits", "interest", "price",
                            "delivery"])]
    good.write_text("question,answer,context\n" + "".join(f'"{q}",Answer {i},ctx\n' for i, q in enumerate(questions))
                    + f'"{questions[0]}",Duplicate,ctx\n', encoding="utf-8")
    report = proj.import_qa(good, name="user")
    assert report.counts["total"] == 10 and report.card["rejections"] == {"near_duplicate": 1}
    rows = load_split(proj.workdir, "user", "train")
    assert rows and all(r["type"] == "user" and r["rating"] == {"accepted": True, "reason": "imported"} for r in rows)


def _touch(path):
    path.write_text("x", encoding="utf-8")
    return path


def test_cli_synth_import_show(proj, tmp_path):
    config = yaml.safe_load(proj.config_path.read_text())
    config.setdefault("datasets", {}).setdefault("rater", {})["judge"] = "off"
    proj.config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(app, ["data", "synth", "-p", str(proj.root), "--n", "4", "--types", "extractive",
                                 "--name", "cli", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["name"] == "cli" and data["counts"]["total"] > 0 and "leakage" in data
    result = runner.invoke(app, ["data", "synth", "-p", str(proj.root), "--n", "2", "--types", "extractive",
                                 "--name", "cli2"])
    assert result.exit_code == 0 and "Leakage check" in result.stdout and "passed" in result.stdout
    shown = runner.invoke(app, ["data", "show", "-p", str(proj.root), "--name", "cli"])
    assert shown.exit_code == 0 and "# Dataset card: cli" in shown.stdout
    assert json.loads(runner.invoke(app, ["data", "show", "-p", str(proj.root), "--name", "cli", "--json"]).stdout)[
        "counts"] == data["counts"]
    missing = runner.invoke(app, ["data", "show", "-p", str(proj.root), "--name", "nope"])
    assert missing.exit_code == 1 and "no dataset 'nope'" in missing.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "Only a question?"}\n', encoding="utf-8")
    result = runner.invoke(app, ["data", "import", str(bad), "-p", str(proj.root)])
    assert result.exit_code == 1 and "bad.jsonl line 1: missing 'answer'" in result.stderr
