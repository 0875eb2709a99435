"""Knowledge graph: rule and LLM extraction (repair, degradation), merging, persistence, local search as a
pipeline stage, global search, the HTML view and the CLI — on two small contracts naming the same party; the
generic rules on documents of other domains."""

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragtune.cli.main import app
from ragtune.documents.models import Chunk
from ragtune.index.graph.config import GraphConfig
from ragtune.index.graph.extractors.contracts import ContractExtractor
from ragtune.index.graph.extractors.llm import BadOutput, LLMExtractor, validate_extraction
from ragtune.index.graph.extractors.rules import RuleExtractor
from ragtune.index.graph.schema import DOCUMENT, name_key
from ragtune.packs.contracts.rules import find_durations, find_governing_law

DATA = Path(__file__).parent / "data" / "graph"
CHROMIUM = "/usr/bin/chromium"
TEXT = (
    'This Hosting Agreement (the "Agreement") is entered into as of March 1, 2023 by and between Initech LLC, a '
    'Delaware limited liability company ("Provider"), 695014 B.C. Ltd. dba Galaxy Telecom ("Galaxy") and JANE ROE, '
    'an individual (the "Consultant"). "Confidential Information" means any non-public information of a party. '
    "Customer shall pay Provider a monthly fee of twelve thousand dollars ($12,000). The initial term of this "
    "Agreement is five (5) years. Either party may terminate on ninety (90) days written notice. This Agreement "
    "is governed by the laws of the State of New York."
)


@pytest.fixture(scope="module")
def graph_project(tmp_path_factory):
    """The two contracts ingested under the contracts pack, the graph built during ingest (its ``contracts``
    extractor)."""
    from ragtune import Project

    root = tmp_path_factory.mktemp("graph")
    docs = root / "docs"
    docs.mkdir()
    for name in ("reseller_agreement.txt", "license_agreement.txt"):
        shutil.copy(DATA / name, docs / name)
    proj = Project.init(root / "p", domain="contracts")
    report = proj.ingest([docs], graph=True)
    yield proj, report
    proj.close()


def test_contract_extractor_finds_parties_terms_dates_amounts_durations_and_law():
    ex = ContractExtractor(GraphConfig()).extract(Chunk("c1", "doc.txt", TEXT, 0, len(TEXT), None, 0))
    entities = {(e.name, e.type): e for e in ex.entities}
    assert entities[("Initech LLC", "organization")].aliases == ["Provider"]
    assert entities[("695014 B.C. Ltd.", "organization")].aliases == ["Galaxy", "Galaxy Telecom"]
    assert ("JANE ROE", "person") in entities
    assert entities[("Confidential Information", "defined_term")].description.startswith("any non-public")
    assert {("2023-03-01", "date"), ("$12,000", "money"), ("5 years", "duration"), ("90 days", "duration"),
            ("New York", "jurisdiction"), ("Delaware", "jurisdiction")} <= set(entities)
    relations = {(r.source, r.type, r.target) for r in ex.relations}
    assert {("Initech LLC", "party_to", DOCUMENT), ("JANE ROE", "party_to", DOCUMENT),
            ("Initech LLC", "incorporated_in", "Delaware"), (DOCUMENT, "governed_by", "New York"),
            (DOCUMENT, "effective_date", "2023-03-01"), (DOCUMENT, "payment", "$12,000"),
            (DOCUMENT, "term", "5 years"), (DOCUMENT, "termination", "90 days"),
            (DOCUMENT, "defines", "Confidential Information")} <= relations
    roles = {r.source: r.role for r in ex.relations if r.type == "party_to"}
    assert roles == {"Initech LLC": "Provider", "695014 B.C. Ltd.": "Galaxy", "JANE ROE": "Consultant"}
    split = ContractExtractor(GraphConfig()).extract(
        Chunk("c2", "d", '("SONY"), on the one hand.', 0, 0, None, 0),
        before="This Agreement is made by and between Sony Electronics Inc. ")
    assert [(e.name, e.aliases) for e in split.entities] == [("Sony Electronics Inc.", ["SONY"])]  # across chunks
    assert [v for _, v in find_durations("thirty (30) days, 2 business days and one-year periods")] == \
        ["30 days", "2 business days", "1 year"]
    assert [p for _, p in find_governing_law("THIS AGREEMENT SHALL BE GOVERNED BY THE LAWS OF THE STATE OF NEW YORK, "
                                             "WITHOUT ... governed by the substantive Laws of the State of California")
            ] == ["New York", "California"]
    assert name_key("GLOBEX CORP.") == name_key("Globex Corporation") == "globex"


FILING = ("ACME WIDGETS CORP. ANNUAL REPORT ON FORM 10-K for the fiscal year ended December 31, 2022. The Company's "
          "revenue was $1,204 million in fiscal 2022, compared with $987 million in 2021. The Company is incorporated "
          "in Delaware and its credit agreements are governed by the laws of the State of New York. The new lease "
          "became effective on March 1, 2022.")
MANUAL = ("PowerBlend 500 User Manual, revised June 3, 2023. Charge the battery for at least 4 hours before first use. "
          "Replacement blades made by Blendtec Inc. cost $24.99 and carry a limited warranty of two years.")
ABSTRACT = ("Abstract. We show that BM25 with learned term weights matches dense retrieval while using ten times less "
            "memory, at a cost of $0.40 per million queries. Submitted on 12 May 2021; accepted on 2021-09-30.")
CONTRACT_RELATIONS = {"party_to", "governed_by", "incorporated_in", "effective_date", "defines"}


@pytest.mark.parametrize("text", [FILING, MANUAL, ABSTRACT], ids=["10-K", "manual", "abstract"])
def test_generic_rules_find_values_and_no_contract_relation_off_contracts(text):
    ex = RuleExtractor(GraphConfig()).extract(Chunk("c", "doc.md", text, 0, len(text), None, 0))
    types = {e.type for e in ex.entities}
    assert {"date", "money"} <= types and types <= {"date", "money", "organization"}
    assert {r.type for r in ex.relations} == {"mentions"} and all(r.source == DOCUMENT for r in ex.relations)
    assert all(r.evidence and r.evidence in text for r in ex.relations)  # the sentence the value is in
    if text is FILING:
        assert {(e.name, e.type) for e in ex.entities} == {
            ("2022-12-31", "date"), ("2022-03-01", "date"), ("$1,204 million", "money"), ("$987 million", "money"),
            ("ACME WIDGETS CORP.", "organization")}  # not "The Company"
        contract = ContractExtractor(GraphConfig()).extract(Chunk("c", "doc.md", text, 0, len(text), None, 0))
        assert {(r.type, r.target) for r in contract.relations} >= {
            ("governed_by", "New York"), ("effective_date", "2022-03-01")}  # the contracts pack's rules, misfiring


def test_ingest_builds_a_graph_linking_the_party_of_both_contracts(graph_project):
    proj, report = graph_project
    cost = report.enrichment["knowledge_graph"]
    assert cost["calls"] == 0 and cost["added"] > 10 and cost["extractor"] == "contracts"
    graph = proj.graph
    globex = graph.node("entity:globex")  # "Globex Corporation" in one contract, "GLOBEX CORP." in the other
    assert globex["name"] == "Globex Corporation" and "GLOBEX CORP." in globex["aliases"]
    assert {Path(s).name for s in globex["sources"]} == {"reseller_agreement.txt", "license_agreement.txt"}
    roles = {Path(v).name: d["roles"] for _, v, d in graph.graph.out_edges("entity:globex", data=True)
             if d["type"] == "party_to"}
    assert roles == {"reseller_agreement.txt": ["Globex"], "license_agreement.txt": ["Licensor"]}
    assert "entity:globex" in graph.cross_document_entities()
    stored = set(proj.store.indexed_chunks()[0])
    assert all(d["chunk_ids"] and set(d["chunk_ids"]) <= stored for _, d in graph.graph.nodes(data=True))
    assert all(d["chunk_ids"] and set(d["chunk_ids"]) <= stored for _, _, d in graph.graph.edges(data=True))
    saved = json.loads((proj.workdir / "graph" / "graph.json").read_text())
    assert saved["format"] == "ragtune-graph/1" and saved["meta"]["store_generation"] == proj.store.generation()
    assert not list((proj.workdir / "graph").glob("*.tmp"))


def test_duplicates_merge_by_name_embedding_not_by_mere_resemblance(graph_project):
    from ragtune.index.graph.builder import GraphBuilder, _Aggregate

    proj, _ = graph_project
    agg = _Aggregate()
    for nid, name in [("entity:a", "Umbrella Health Systems"), ("entity:b", "Umbrella Health System"),
                      ("entity:c", "Initech LLC"), ("entity:d", "Initrode Ltd.")]:
        agg.node(nid, "organization", name, "x.txt", f"chunk-{nid}")
    agg.edge("entity:b", "entity:c", "supplies", "x.txt", "chunk-e")
    config = GraphConfig()
    builder = GraphBuilder(proj.store, proj.embedder, RuleExtractor(config), config, proj.workdir / "graph")
    assert builder._merge(agg) == 1
    assert set(agg.nodes) == {"entity:a", "entity:c", "entity:d"}
    assert agg.nodes["entity:a"]["aliases"] == {"Umbrella Health System"}
    assert ("entity:a", "entity:c", "supplies") in agg.edges


def test_llm_json_is_repaired_validated_and_grounded():
    passage = "Globex Corporation appoints Initrode Ltd. as reseller."
    truncated = '```json\n{"entities": [{"name": "Globex Corporation", "type": "company"}, {"name": "Initech LLC"}, ' \
                '{"name": "Initrode Ltd.", "type": "organization"}], "relations": [{"source": "Globex Corporation", ' \
                '"target": "Initrode Ltd.", "type": "appoints as reseller"}, {"source": "Globex", "target": "x"'
    extraction, repaired, dropped = validate_extraction(truncated, passage)
    assert repaired and dropped == 2  # Initech is not in the passage (copied from the prompt); a dangling relation
    assert [(e.name, e.type) for e in extraction.entities] == [("Globex Corporation", "organization"),
                                                               ("Initrode Ltd.", "organization")]
    assert [(r.source, r.type, r.target) for r in extraction.relations] == [
        ("Globex Corporation", "appoints_as_reseller", "Initrode Ltd.")]
    with pytest.raises(BadOutput):
        validate_extraction("Sure! The entities are Globex and Initrode.", passage)
    with pytest.raises(BadOutput):
        validate_extraction('{"answer": 42}', passage)
    with pytest.raises(BadOutput, match="none of the 1"):
        validate_extraction('{"entities": [{"name": "Initech LLC", "type": "organization"}]}', passage)
    assert validate_extraction('{"entities": [], "relations": []}', passage)[0].entities == []


def test_llm_extractor_degrades_to_rules_with_a_warning(graph_project, caplog):
    proj, _ = graph_project
    chunk = proj.store.chunks([proj.graph.node("entity:hooli")["chunk_ids"][0]])[0]
    config = GraphConfig(llm={"max_tokens": 1, "max_retries": 1})  # one token is never valid JSON
    extractor = LLMExtractor(config, proj.llm)
    extraction = extractor.extract(chunk)
    assert extractor.cost.calls == 2 and extractor.cost.retried == 1 and extractor.cost.degraded == 1
    assert "used the rule extractor" in extractor.cost.warnings[0] and "used the rule extractor" in caplog.text
    assert any(e.name == "Hooli Inc." for e in extraction.entities)  # the rules' extraction


def test_llm_graph_build_with_the_real_model_never_crashes(tmp_path):
    from ragtune import Project

    proj = Project.init(tmp_path / "llm")
    proj.config.index.graph.llm.max_tokens = 48  # cut short: the JSON is repaired, or the chunk degrades
    proj.config.index.graph.llm.max_retries = 0
    proj.ingest([DATA / "license_agreement.txt"])
    report = proj.build_graph("llm")
    c = report.cost
    assert report.extractor == "llm" and c.calls == c.chunks == 1 and c.completion_tokens > 0
    assert c.repaired + c.degraded == 1  # one chunk, its JSON cut short: repaired, or the rules took over
    if c.degraded:
        assert report.entities > 0 and any("used the rule extractor" in w for w in c.warnings)
    else:
        assert report.entities > 0 and not c.warnings
    assert (proj.workdir / "graph" / "extractions.json").exists()
    again = proj.build_graph("llm")
    assert again.cost.calls == 0 and again.cost.cached == 1  # extractions are cached by chunk text
    proj.close()


def test_graph_stage_adds_the_neighbourhood_of_named_entities(graph_project):
    from ragtune.retrieval.pipeline import parse_spec

    proj, _ = graph_project
    assert [s.name for s in parse_spec("graph", {}, "hybrid").stages] == ["hybrid", "graph"]
    ctx = proj.retrieve("What royalty does Hooli pay?", pipeline="bm25+graph", top_k=2)
    stage = ctx.trace[-1]
    assert stage.stage == "graph" and stage.details["entities"][0]["name"] == "Hooli Inc."
    assert {"California", "$4,000"} <= set(stage.details["neighbours"])  # via its contract: "pay" ~ "payment"
    license_chunks = set(proj.graph.node("entity:hooli")["chunk_ids"])
    assert ctx.hits[0].chunk.id in license_chunks
    filtered = proj.retrieve("Globex", pipeline="graph", filters={"source": "*reseller*"})
    assert filtered.hits and all("reseller" in h.chunk.doc_source for h in filtered.hits)


def test_graph_stage_builds_a_missing_graph_with_the_rules(tmp_path):
    from ragtune import Project

    proj = Project.init(tmp_path / "fresh")
    proj.ingest([DATA / "reseller_agreement.txt"])
    ctx = proj.retrieve("Who is Initrode?", pipeline="graph")
    assert any("built one with the rules extractor" in w for w in ctx.warnings)  # the default: generic rules
    assert ctx.trace[-1].details["entities"][0]["name"] == "Initrode Ltd."
    proj.close()


def test_global_search_maps_community_summaries_and_cites_them(graph_project):
    proj, _ = graph_project
    cfg = proj.config.index.graph
    cfg.global_communities, cfg.summary_max_tokens, cfg.answer_max_tokens = 1, 32, 48
    answer = proj.ask_global("Which agreements are governed by Delaware law?", strategy="generate")
    assert len(answer.communities) == 1 and all(c["summary"] for c in answer.communities)
    stages = [s["stage"] for s in answer.stages]
    assert any(s.startswith("summary[") for s in stages) and any(s.startswith("map[") for s in stages)
    assert answer.usage["completion_tokens"] > 0
    assert answer.facts and "governed by Delaware" in answer.facts[0]["text"] and answer.facts[0]["chunk_ids"]
    if answer.answered:
        assert "reduce" in stages and answer.citations and all(c["documents"] for c in answer.citations)
    cache = json.loads((proj.workdir / "graph" / "communities.json").read_text())
    assert set(cache.values()) >= {c["summary"] for c in answer.communities if c["summary_by"] == "llm"}


def test_global_search_with_an_extractive_strategy_quotes_the_facts(graph_project):
    proj, _ = graph_project
    cfg = proj.config.index.graph
    cfg.global_communities, cfg.summary_max_tokens, cfg.answer_max_tokens = 1, 32, 48
    answer = proj.ask_global("Which agreements are governed by Delaware law?", strategy="extract")
    assert "reduce" not in [s["stage"] for s in answer.stages]  # no LLM call for the final answer
    assert answer.answered and answer.citations, answer.warnings
    assert "reseller_agreement governed by Delaware [1]." in answer.answer  # a graph fact, cited to its community


def test_cli_build_show_and_an_html_view_that_works_offline(graph_project, tmp_path):
    proj, _ = graph_project
    runner = CliRunner()
    built = runner.invoke(app, ["graph", "build", "-p", str(proj.root), "--json"])
    assert built.exit_code == 0, built.output
    data = json.loads(built.stdout)
    assert data["extractor"] == "contracts" and data["stats"]["cross_document_entities"] >= 1
    out = tmp_path / "graph.html"
    shown = runner.invoke(app, ["graph", "show", "-p", str(proj.root), "--out", str(out), "--json"])
    assert shown.exit_code == 0, shown.output
    page = out.read_text()
    assert "<svg" in page and "Globex Corporation" in page
    assert "<link" not in page and " src=" not in page and "https://" not in page  # self-contained
    if not Path(CHROMIUM).exists():
        pytest.skip("needs the Debian chromium package to render the view")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        requests, errors = [], []
        page.on("request", lambda r: requests.append(r.url))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(out.as_uri())
        nodes = json.loads(page.text_content("#data"))["nodes"]
        page.click(f"circle[data-i='{next(i for i, n in enumerate(nodes) if n['id'] == 'entity:globex')}']")
        panel = page.inner_text("#info")
        browser.close()
    assert errors == [] and requests == [out.as_uri()]
    assert "Globex Corporation" in panel and "party_to" in panel


def test_ingest_summary_shows_the_graph_cost(tmp_path):
    from ragtune import Project

    Project.init(tmp_path / "cli")
    result = CliRunner().invoke(app, ["ingest", str(DATA / "license_agreement.txt"), "-p", str(tmp_path / "cli"),
                                      "--graph"])
    assert result.exit_code == 0, result.output
    assert "knowledge_graph:" in result.stdout and "0 LLM calls" in result.stdout
