"""Multi-document analysis: one cited row per document, a synthesis, document selection, degradation, and
the quoted clause per contract on the demo corpus."""

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragtune.cli.main import app
from ragtune.errors import InputError
from ragtune.generation.compare import key_terms, select_documents
from ragtune.index.graph.config import GraphConfig
from ragtune.index.graph.extractors.rules import RuleExtractor
from ragtune.index.store import glob_escape

DATA = Path(__file__).parent / "data" / "graph"
DEMO = Path(__file__).parents[1] / "src" / "ragtune" / "demo" / "corpus"
MARKED = re.compile(r"\s*(.+?) \[(\d{1,2})\]([.!?]?)")  # a quoted sentence and its marker


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def contracts(tmp_path_factory):
    from ragtune import Project

    root = tmp_path_factory.mktemp("compare")
    docs = root / "docs"
    docs.mkdir()
    for name in ("reseller_agreement.txt", "license_agreement.txt"):
        shutil.copy(DATA / name, docs / name)
    proj = Project.init(root / "p", domain="contracts")
    proj.ingest([docs])
    proj.config.compare.map_max_tokens = 64
    proj.config.compare.reduce_max_tokens = 64
    yield proj
    proj.close()


def test_compare_gives_one_cited_row_per_document_and_a_synthesis(contracts):
    result = contracts.compare("termination", strategy="generate")
    assert [Path(r.source).name for r in result.rows] == ["license_agreement.txt", "reseller_agreement.txt"]
    for row in result.rows:
        assert row.method in ("llm", "extractive") and row.summary
        assert row.citations and all(c.source == row.source for c in row.citations)  # cites its own document
        assert len(row.quotes) == len(row.citations) and all(row.quotes)
    terms = {Path(r.source).name: r.key_terms for r in result.rows}
    assert "termination: 30 days" in terms["license_agreement.txt"]
    assert "termination: 90 days" in terms["reseller_agreement.txt"]
    assert result.synthesis and result.synthesis_method in ("llm", "template")
    assert set(result.synthesis_cites) <= {1, 2}
    stages = [s["stage"] for s in result.stages]
    assert {"map[1]", "map[2]"} <= set(stages) and result.usage["completion_tokens"] > 0
    md = result.to_markdown()
    assert "| # | document | summary | key terms |" in md and "license_agreement" in md and "row 2 [1]" in md


def test_cli_compare_selected_documents_as_json(contracts):
    result = CliRunner().invoke(app, ["compare", "royalties and fees", "--docs", "*license*", "-p",
                                      str(contracts.root), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["rows"]) == 1 and data["rows"][0]["citations"]
    assert data["synthesis_method"] == "template"  # one document: nothing to reduce with the LLM


def test_degenerate_summaries_degrade_to_cited_sentences(contracts):
    contracts.config.compare.map_max_tokens = 1  # one token cannot be a cited summary
    try:
        result = contracts.compare("termination", docs=["*reseller*"], strategy="generate")
    finally:
        contracts.config.compare.map_max_tokens = 64
    row = result.rows[0]
    assert row.method == "extractive" and row.citations and "terminate" in row.summary.lower()
    assert any("showing the most relevant sentences" in w for w in result.warnings)


def test_document_selection_and_bad_input(contracts):
    sources = ["docs/a_license.txt", "docs/b_reseller.txt", "other/c.md"]
    assert select_documents(sources, None) == sorted(sources)
    assert select_documents(sources, ["*.txt"]) == sources[:2]
    assert select_documents(sources, ["c.md", "docs/b_*"]) == ["docs/b_reseller.txt", "other/c.md"]
    with pytest.raises(InputError, match="nothing"):
        select_documents(sources, ["nothing*"])
    assert glob_escape("a[1]*?.txt") == "a[[]1][*][?].txt"
    with pytest.raises(InputError, match="empty"):
        contracts.compare("  ")
    assert key_terms("termination", [], RuleExtractor(GraphConfig())) == []


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The six bundled CUAD contracts, ingested (about 25 s)."""
    from ragtune import Project

    proj = Project.init(tmp_path_factory.mktemp("demo") / "p", domain="contracts")
    proj.ingest([DEMO])
    yield proj
    proj.close()


def test_default_strategy_quotes_each_contracts_governing_law_clause(demo):
    result = demo.compare("governing law")
    assert result.strategy == demo.config.answer.strategy
    assert result.synthesis_method == "template"  # no free-form LLM comparison of quoted clauses
    states = {"DRKOOP": "Delaware", "CURO": "New York", "BLUEFLY": "New York", "GSITECHNOLOGY": "California",
              "WOMENSGOLF": "New Jersey", "ASIANDRAGON": "British Columbia"}
    assert len(result.rows) == len(states)
    for row in result.rows:
        state = next(v for k, v in states.items() if Path(row.source).name.startswith(k)).lower()
        assert row.method == result.strategy and row.citations
        assert all(c.source == row.source for c in row.citations)  # cites its own contract
        quoted = [(flat(s + end), int(n)) for s, n, end in MARKED.findall(row.summary)]
        clause = [s for s, n in quoted
                  if state in s.lower() and "law" in s.lower() and s in flat(row.chunks[n - 1]["text"])]
        assert clause, row.summary  # the clause, verbatim, cited to the chunk it comes from
        assert any(state in q.lower() for q in row.quotes)
