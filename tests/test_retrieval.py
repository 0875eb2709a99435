from ragtune.retrieval.fusion import reciprocal_rank_fusion


def test_rrf_hand_computed():
    fused = dict(reciprocal_rank_fusion([["a", "b"], ["b", "c"]], [1.0, 2.0], k=1))
    assert fused["a"] == 1 / 2
    assert fused["b"] == 1 / 3 + 2 / 2
    assert fused["c"] == 2 / 3


def test_hybrid_finds_facts_in_each_format(store_project):
    project = store_project
    cases = {
        "How many days of paid vacation do employees get?": "handbook.pdf",
        "How often should silicone oil be applied to the spindle?": "maintenance.html",
        "What is the monthly fee for hosting services?": "service_agreement.txt",
        "How long is the warranty on widgets?": "warranty.docx",
        "What does the titanium widget cost?": "products.csv",
    }
    for question, source in cases.items():
        hits = project.retrieve(question, top_k=3).hits
        assert any(h.chunk.doc_source.endswith(source) for h in hits), question


def test_pages_and_records_come_back(store_project):
    project = store_project
    hit = project.retrieve("paid vacation days per year", top_k=1).hits[0]
    assert hit.chunk.doc_source.endswith("handbook.pdf") and hit.chunk.page == 2
    row = project.retrieve("Titanium widget price", top_k=1).hits[0]
    assert row.chunk.doc_source.endswith("products.csv") and row.chunk.page == 4


def test_modes_and_filters(store_project):
    project = store_project
    for mode in ("bm25", "dense", "hybrid"):
        hits = project.retrieve("governing law of the supply agreement", top_k=2, pipeline=mode).hits
        assert hits and hits[0].chunk.doc_source.endswith("supply_agreement.md"), mode
    only = project.retrieve("governing law", top_k=5, filters={"source": "*service_agreement.txt"}).hits
    assert only and all(h.chunk.doc_source.endswith("service_agreement.txt") for h in only)
    pdf_page = project.retrieve("working hours", top_k=5, filters={"page": 1, "source": "*.pdf"}).hits
    assert pdf_page and all(h.chunk.page == 1 for h in pdf_page)


def test_parent_child_returns_parents(tmp_path, corpus, backend, init_project):
    from ragtune.documents.chunkers import ParentChildConfig

    proj = init_project(tmp_path / "pc", backend)
    proj.config.chunker = ParentChildConfig(chunk_tokens=24, parent_tokens=200)
    proj.ingest([corpus / "supply_agreement.md"])
    hits = proj.retrieve("interest on late payments", top_k=2).hits
    top = hits[0]
    assert not top.chunk.indexed and top.matched  # a parent, found through its children
    assert "one percent (1%) per month" in top.chunk.text
    proj.close()
