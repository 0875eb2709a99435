"""``scale.engine: ray`` against the local engine, on one local Ray session (2 CPUs) for the module: the bundled
demo corpus (plus PDF and DOCX) ingested by both gives the same chunk ids, texts, vectors and retrieval results;
changed, removed and unreadable files are handled the same; bench answers from Ray workers equal local ones."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import ragtune
from ragtune import Project
from ragtune.cli.main import app
from ragtune.config import ScaleConfig
from ragtune.evaluation.bench import run_bench

DEMO_CORPUS = Path(ragtune.__file__).parent / "demo" / "corpus"
QUERIES = ["Which law governs the reseller agreement?", "How long is the term of the sponsorship agreement?",
           "Who owns the intellectual property?", "working hours"]
QA = """question,answer
What is the name of the sponsorship agreement?,SPONSORSHIP AGREEMENT
How many days of paid vacation do employees receive per year?,twenty-five (25) days
"""
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ray_session():
    from ragtune.ray_runtime import start

    ray = start(ScaleConfig(workers=2))
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def docs(tmp_path_factory, corpus) -> Path:
    """The demo corpus with the test corpus's PDF and DOCX."""
    root = tmp_path_factory.mktemp("docs")
    shutil.copytree(DEMO_CORPUS, root / "docs")
    for name in ("handbook.pdf", "warranty.docx"):
        shutil.copy(corpus / name, root / "docs" / name)
    return root / "docs"


def float32(project: Project) -> Project:
    """``embedder.precision: float32`` in its ragtune.yaml: bfloat16 vectors change in the 4th decimal with the
    batch a text is embedded in, and the engines batch differently; float32 ones are the same in any batch."""
    project.config.embedder.precision = "float32"
    project.config_path.write_text(project.config.dump(), encoding="utf-8")
    return Project(project.root)


@pytest.fixture(scope="module")
def pair(tmp_path_factory, docs, ray_session):
    """The same folder ingested by a local project and, through the CLI, by a ray one (2 files per batch)."""
    local, distributed = (float32(Project.init(tmp_path_factory.mktemp(name))) for name in ("local", "ray"))
    report = local.ingest([docs])
    result = CliRunner().invoke(app, ["ingest", str(docs), "-p", str(distributed.root), "--engine", "ray",
                                      "--batch-files", "2", "--json"])
    assert result.exit_code == 0, result.output
    yield local, distributed, report.to_dict(), json.loads(result.output)
    local.close()
    distributed.close()


def index_of(project: Project) -> tuple[list[str], list, np.ndarray]:
    ids, _ = project.store.indexed_chunks()
    chunks = project.store.chunks(ids)
    vectors = project.embedder.embed_cached([c.text for c in chunks], project.store)
    return ids, [(c.text, c.doc_source, c.page) for c in chunks], vectors


def same_report(a: dict, b: dict) -> None:
    assert {k: v for k, v in a.items() if k != "seconds"} == {k: v for k, v in b.items() if k != "seconds"}


def test_ray_ingest_gives_the_chunks_vectors_and_retrieval_of_the_local_engine(pair):
    local, distributed, local_report, ray_report = pair
    same_report(local_report, ray_report)
    assert ray_report["files_ingested"] == 8 and ray_report["chunks_added"] > 300
    ids, chunks, vectors = index_of(local)
    ray_ids, ray_chunks, ray_vectors = index_of(distributed)
    assert ids == ray_ids and chunks == ray_chunks
    assert np.allclose(vectors, ray_vectors, atol=1e-5)
    for query in QUERIES:
        got = [(h.chunk.id, round(h.score, 4)) for h in distributed.retrieve(query).hits]
        assert got == [(h.chunk.id, round(h.score, 4)) for h in local.retrieve(query).hits] and got


def test_ray_ingest_is_incremental_like_the_local_engine(pair, docs):
    local, distributed, _, _ = pair
    again = distributed.ingest([docs], engine="ray")
    assert (again.files_unchanged, again.files_ingested, again.chunks_added) == (8, 0, 0)
    changed = docs.parent / "changed"
    shutil.copytree(docs, changed)
    (changed / "handbook.pdf").unlink()
    (changed / "empty.txt").write_text("")
    reseller = next(changed.glob("ASIANDRAGON*"))
    reseller.write_text(reseller.read_text() + "\nAddendum: the reseller fee is forty-two dollars.\n")
    reports = []
    for project, engine in ((local, "local"), (distributed, "ray")):
        shutil.rmtree(docs)
        shutil.copytree(changed, docs)  # the same paths, so that sources match
        reports.append(project.ingest([docs], engine=engine).to_dict())
    same_report(*reports)
    assert (reports[1]["files_ingested"], reports[1]["files_removed"], len(reports[1]["skipped"])) == (1, 1, 1)
    assert index_of(local)[:2] == index_of(distributed)[:2]


def test_ray_bench_answers_like_the_local_engine(pair, tmp_path):
    _, distributed, _, _ = pair
    qa = tmp_path / "qa.csv"
    qa.write_text(QA, encoding="utf-8")
    distributed.config.bench.metrics = ["token_f1", "exact_match"]
    runs = {}
    for engine in ("local", "ray"):
        distributed.config.scale = ScaleConfig(engine=engine)
        runs[engine] = run_bench(distributed.bench_system, ["base", "rag:generate"], qa, seed=1, run=engine)
    for key in ("test_set_sha256", "n_questions"):
        assert runs["local"][key] == runs["ray"][key]
    fields = ("answer", "answered", "prompt_tokens", "completion_tokens", "scores")
    for local_row, ray_row in zip(runs["local"]["per_question"], runs["ray"]["per_question"], strict=True):
        for arm in ("base", "rag:generate"):
            assert {f: local_row["arms"][arm][f] for f in fields} == {f: ray_row["arms"][arm][f] for f in fields}
