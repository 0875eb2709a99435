import json

import pytest
from typer.testing import CliRunner

from ragtune.cli.main import app
from ragtune.errors import ConfigError
from ragtune.parsing import parse_json, parse_lines, parse_score
from ragtune.retrieval.pipeline import QueryContext, parse_spec

NAMED = {"mine": ["hyde", {"name": "hybrid", "bm25_weight": 2.0}, "dedupe"]}


def test_spec_parsing():
    spec = parse_spec("hyde+llm_rerank", NAMED, "hybrid")
    assert [s.name for s in spec.stages] == ["hyde", "hybrid", "llm_rerank"]
    assert parse_spec("mine", NAMED, "hybrid").stages[1].bm25_weight == 2.0
    with pytest.raises(ConfigError, match="pre-retrieval, retrieval, then post-retrieval"):
        parse_spec("llm_rerank+hybrid+hyde", NAMED, "hybrid")
    with pytest.raises(ValueError, match="unknown pipeline component 'magic'.*available"):
        parse_spec("magic+hybrid", NAMED, "hybrid")
    with pytest.raises(ConfigError, match="mmr"):
        parse_spec("x", {"x": ["hybrid", {"name": "mmr", "bogus": 1}]}, "hybrid")


@pytest.mark.parametrize("stage,field", [("rewrite", "queries"), ("hyde", "dense_texts"),
                                         ("multi_query", "queries"), ("step_back", "queries")])
def test_pre_retrieval_stages_change_the_query_or_warn(store_project, stage, field):
    project = store_project
    ctx = project.retrieve("How long is the term of the supply agreement?", pipeline=f"{stage}+hybrid")
    first = ctx.trace[0]
    assert first.stage == stage and first.kind == "pre" and first.completion_tokens > 0
    changed = getattr(ctx, field) not in ([], [ctx.question])
    warned = [w for w in ctx.warnings if w.startswith(f"{stage}:")]
    assert changed != bool(warned), ctx.warnings  # the model's output is used, or the stage says why not
    assert ctx.trace[1].stage == "hybrid" and ctx.hits


def test_decomposition_answers_every_sub_question(project):
    q = "What is the monthly fee for hosting services and which law governs the widget supply agreement?"
    answer = project.ask(q, pipeline="decompose", strategy="generate")
    assert len(answer.sub_answers) == 2
    fee, law = answer.sub_answers
    assert "fee" in fee["question"].lower() and "law" in law["question"].lower()
    sources = {c["chunk_id"]: c["source"] for c in answer.chunks}
    assert any(sources[i].endswith("service_agreement.txt") for i in fee["chunk_ids"])
    assert any(sources[i].endswith("supply_agreement.md") for i in law["chunk_ids"])
    stages = [s["stage"] for s in answer.stages]
    assert "generate[1]" in stages and "generate[2]" in stages and stages[-1] == "generate"
    assert answer.usage["completion_tokens"] == sum(s["completion_tokens"] for s in answer.stages)


def test_decomposition_keeps_only_sub_questions_about_the_question():
    from ragtune.retrieval.pre.decompose import is_sub_question, split_question

    q = "What is the monthly fee for hosting services and which law governs the widget supply agreement?"
    assert split_question(q) == ["What is the monthly fee for hosting services?",
                                 "Which law governs the widget supply agreement?"]
    assert is_sub_question("Which law governs the agreement?", q)
    assert not is_sub_question("What is the minimum number of people required to hold a job?", q)
    assert not is_sub_question(q, q) and not is_sub_question("The fee", q)


def test_router_rules(store_project):
    project = store_project
    assert project.retrieve("indemnification", pipeline="router").trace[0].details["route"] == "bm25"
    ctx = project.retrieve("What is the fee and which law governs the agreement?", pipeline="router")
    assert ctx.trace[0].details == {"route": "decompose+hybrid", "by": "rule"}
    assert [t.stage for t in ctx.trace][:2] == ["router", "decompose"]


def test_llm_rerank_reorders_or_degrades(project):
    ctx = project.retrieve("How long is the warranty?", pipeline="hybrid+llm_rerank", top_k=2)
    rerank = ctx.trace[-1]
    assert rerank.stage == "llm_rerank" and len(rerank.details["before"]) > 2
    assert sorted(rerank.details["before"]) == sorted(rerank.details["after"])
    assert len(ctx.hits) == 2
    assert rerank.details["grades"] == sorted(rerank.details["grades"], reverse=True)


def test_mmr_dedupe_reorder(store_project):
    project = store_project
    ctx = project.retrieve("widget", pipeline="hybrid+mmr+dedupe+reorder", top_k=4)
    names = [t.stage for t in ctx.trace]
    assert names == ["hybrid", "mmr", "dedupe", "reorder"]
    selected = ctx.trace[1].details["selected"]
    assert len(selected) == 4 and len(set(selected)) == 4
    order = ctx.trace[3].details["order"]
    kept = [i for i in selected if i not in ctx.trace[2].details["dropped"]]
    assert order[0] == kept[0] and order[-1] == kept[1]  # best first, second best last


def test_dedupe_and_reorder_by_hand(store_project):
    project = store_project
    from dataclasses import replace

    from ragtune.retrieval.hybrid import Hit

    hits = project.retrieve("warranty", pipeline="hybrid", top_k=3).hits
    dup = Hit(replace(hits[0].chunk, id="copy"), 0.0)
    ctx = QueryContext("warranty", top_k=4, fetch_k=4, hits=[hits[0], dup, hits[1], hits[2]])
    pipe = project.pipeline("hybrid+dedupe+reorder")
    pipe.components[1](ctx)
    assert [h.chunk.id for h in ctx.hits] == [hits[0].chunk.id, hits[1].chunk.id, hits[2].chunk.id]
    pipe.components[2](ctx)
    assert [h.chunk.id for h in ctx.hits] == [hits[0].chunk.id, hits[2].chunk.id, hits[1].chunk.id]


def test_compression_keeps_relevant_sentences_within_budget(store_project):
    project = store_project
    pipe = project.pipeline("hybrid+compress")
    pipe.components[1].config.max_tokens = 60
    ctx = pipe.run("How many days of paid vacation do employees get?")
    details = ctx.trace[-1].details
    assert details["tokens_after"] <= 60 < details["tokens_before"]
    assert any("twenty-five (25) days" in h.chunk.text for h in ctx.hits)


def test_sentence_window(tmp_path, corpus, backend, init_project):
    from ragtune.documents.chunkers import SentenceWindowChunker

    proj = init_project(tmp_path / "sw", backend)
    proj.config.chunker = SentenceWindowChunker.Config(window=1)
    proj.ingest([corpus / "service_agreement.txt"])
    ctx = proj.retrieve("What network availability is guaranteed?", pipeline="hybrid+sentence_window", top_k=1)
    hit = ctx.hits[0].chunk
    assert "99.9%" in hit.text and "data center hosting" in hit.text  # the sentence and its neighbour
    assert ctx.trace[-1].details["expanded"] == 1
    proj.close()


def test_hypothetical_question_index(tmp_path, corpus):
    from ragtune import Project

    proj = Project.init(tmp_path / "hq")
    proj.config.index.hypothetical_questions.per_chunk = 2
    report = proj.ingest([corpus / "supply_agreement.md"])
    cost = report.enrichment["hypothetical_questions"]
    assert cost["calls"] >= 1 and cost["completion_tokens"] > 0 and cost["added"] >= 1
    ids, texts = proj.store.indexed_chunks()
    questions = [c for c in proj.store.chunks(ids) if c.metadata.get("kind") == "question"]
    assert len(questions) == cost["added"] and all(q.parent_id for q in questions)
    hit = proj.retrieve(questions[0].text, pipeline="bm25", top_k=1).hits[0]
    assert hit.chunk.id == questions[0].parent_id and questions[0].id in hit.matched
    again = proj.ingest([corpus / "supply_agreement.md"])
    assert again.enrichment["hypothetical_questions"]["calls"] == 0  # unchanged files cost nothing
    proj.close()


def test_citation_check_flags_unsupported_sentences(store_project):
    project = store_project
    from ragtune.generation.citation_check import check_citations

    chunk = project.retrieve("paid vacation", top_k=1).hits[0].chunk
    checked = check_citations("Employees receive twenty-five (25) days of paid vacation per year [1]. "
                              "The company was founded on Mars in 1850 [1].", [chunk], project.embedder)
    assert [c.supported for c in checked] == [True, False]


def test_degenerate_model_output_degrades_with_a_warning(store_project):
    project = store_project
    pipe = project.pipeline("step_back+decompose+hybrid")
    for component in pipe.components[:2]:
        component.config.max_tokens = 1
    ctx = pipe.run("Why is the sky blue?")
    assert any("step_back" in w for w in ctx.warnings) and any("decompose" in w for w in ctx.warnings)
    assert ctx.sub_questions == [] and ctx.hits


def test_parsers():
    assert parse_lines("1. What is A?\n2) What is B?\n- What is A?\n\nshort", 5) == ["What is A?", "What is B?"]
    assert parse_score("I'd say 7/10") == 7 and parse_score("eleven") is None
    assert parse_json('Sure! ```json\n{"a": [1, 2,], \'b\': \'x\'}\n```') == {"a": [1, 2], "b": "x"}
    assert parse_json('{"entities": [{"name": "Acme"') == {"entities": [{"name": "Acme"}]}
    with pytest.raises(ValueError):
        parse_json("no json here")


def test_ask_json_shows_each_stage(store_project):
    project = store_project
    result = CliRunner().invoke(app, ["ask", "What is the monthly fee?", "-p", str(project.root), "--json",
                                      "--pipeline", "multi_query+hybrid+dedupe", "--strategy", "generate"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["pipeline"] == "multi_query+hybrid+dedupe"
    assert [s["stage"] for s in data["stages"]] == ["multi_query", "hybrid", "dedupe", "generate"]
    assert data["stages"][0]["details"]["queries"][0] == "What is the monthly fee?"
    scans = data["stages"][1]["details"]["dense_scans"]  # per query, what the store's dense search ran
    assert len(scans) == len(data["stages"][0]["details"]["queries"]) and all(s[0]["rows"] for s in scans)
    assert all({"seconds", "prompt_tokens", "completion_tokens"} <= set(s) for s in data["stages"])
