import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import write_pdf
from ragtune.cli.main import app
from ragtune.errors import InputError

runner = CliRunner()


def cli(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_ingest_all_formats_and_twice_adds_nothing(store_project, corpus):
    project = store_project
    docs = project.store.documents()
    assert len(docs) == 7
    again = project.ingest([corpus])
    assert again.chunks_added == 0 and again.chunks_removed == 0
    assert again.files_unchanged == 7 and again.files_ingested == 0
    assert again.chunks_total == project.store.count_chunks()


def test_cli_second_run_says_nothing_changed(new_store_project, corpus):
    first = cli("ingest", str(corpus), "-p", str(new_store_project.root), "--json")
    assert json.loads(first.stdout)["chunks_added"] > 0
    second = cli("ingest", str(corpus), "-p", str(new_store_project.root))
    assert second.exit_code == 0
    assert "0 added" in second.stdout and "nothing changed" in second.stdout


def test_changed_and_removed_files(new_store_project, tmp_path, corpus):
    folder = tmp_path / "docs"
    shutil.copytree(corpus, folder)
    first = new_store_project.ingest([folder])
    before = new_store_project.store.documents()
    (folder / "service_agreement.txt").write_text("SHORT AGREEMENT\n\nThe term is ten (10) years.\n")
    (folder / "products.csv").unlink()
    report = new_store_project.ingest([folder])
    after = new_store_project.store.documents()
    assert report.files_ingested == 1 and report.files_removed == 1
    assert report.chunks_added == 1
    removed = [d.n_chunks for s, d in before.items() if s.endswith(("service_agreement.txt", "products.csv"))]
    assert report.chunks_removed == sum(removed)
    assert not any(s.endswith("products.csv") for s in after)
    assert report.chunks_total == first.chunks_total - report.chunks_removed + report.chunks_added
    hits = new_store_project.retrieve("How long is the term of the short agreement?").hits
    assert any("ten (10) years" in h.chunk.text for h in hits)


def bad_folder(tmp_path: Path, corpus: Path) -> Path:
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(corpus / "supply_agreement.md", folder)
    shutil.copy(corpus / "handbook.pdf", folder)
    (folder / "broken.pdf").write_bytes((corpus / "handbook.pdf").read_bytes()[:300])
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blob.txt").write_bytes(os.urandom(2048).replace(b"\n", b"\x00"))
    return folder


def test_bad_files_are_skipped_with_reasons(new_store_project, tmp_path, corpus):
    folder = bad_folder(tmp_path, corpus)
    write_pdf(folder / "locked.pdf", ["Confidential."], owner_password="owner", user_password="user")
    result = cli("ingest", str(folder), "-p", str(new_store_project.root), "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert set(report) >= {"files_seen", "files_ingested", "chunks_added", "chunks_removed", "chunks_total",
                           "skipped"}
    reasons = {Path(s["path"]).name: s["reason"] for s in report["skipped"]}
    assert set(reasons) == {"broken.pdf", "empty.txt", "blob.txt", "locked.pdf"}
    assert "corrupt PDF" in reasons["broken.pdf"]
    assert reasons["locked.pdf"] == "encrypted PDF: needs a password"
    assert reasons["empty.txt"] == "empty file"
    assert "binary" in reasons["blob.txt"]
    assert report["files_ingested"] == 2
    strict = cli("ingest", str(folder), "-p", str(new_store_project.root), "--strict")
    assert strict.exit_code == 1
    assert "broken.pdf" in strict.stderr and "--strict" in strict.stderr
    assert "locked.pdf:" in strict.stderr and "encrypted PDF: needs a password" in strict.stderr


def test_a_rebuild_resets_what_was_built_from_the_index(new_project, corpus):
    proj = new_project
    proj.ingest([corpus / "supply_agreement.md"])
    old_store, old_pipeline = proj.store, proj.pipeline()
    assert proj.verdicts is None  # none configured
    proj.ingest([corpus / "service_agreement.txt"], rebuild=True)
    assert proj.store is not old_store and proj.pipeline() is not old_pipeline
    assert proj.pipeline().resources.store is proj.store and proj.retrieval_resources.vectors.store is proj.store
    assert [Path(s).name for s in proj.store.documents()] == ["service_agreement.txt"]
    assert proj.retrieve("monthly fee", top_k=1).hits[0].chunk.doc_source.endswith("service_agreement.txt")


def test_missing_input_is_an_error(new_project, tmp_path):
    with pytest.raises(InputError, match="no such file"):
        new_project.ingest([tmp_path / "nope"])
    result = cli("ingest", str(tmp_path / "nope"), "-p", str(new_project.root))
    assert result.exit_code == 1 and "no such file or directory" in result.stderr


def test_a_bad_new_version_keeps_the_stored_one(new_store_project, tmp_path, corpus):
    folder = tmp_path / "d"
    folder.mkdir()
    shutil.copy(corpus / "handbook.pdf", folder)
    new_store_project.ingest([folder])
    n = new_store_project.store.count_chunks()
    (folder / "handbook.pdf").write_bytes(b"%PDF-1.4 truncated")
    report = new_store_project.ingest([folder])
    assert len(report.skipped) == 1 and new_store_project.store.count_chunks() == n


def test_include_exclude_globs(tmp_path, corpus, backend, init_project):
    proj = init_project(tmp_path / "g", backend)
    proj.config.documents.include = ["*.md", "*.txt"]
    proj.config.documents.exclude = ["service*"]
    report = proj.ingest([corpus])
    assert [Path(s).name for s in proj.store.documents()] == ["supply_agreement.md"]
    assert report.files_seen == 1


def _documents(proj) -> int:
    """Documents stored so far, read without opening the project's store (a reader beside the writer)."""
    if proj.config.store.backend == "postgres":
        import psycopg

        with psycopg.connect(proj.config.store.url) as db:
            exists = db.execute("SELECT to_regclass('ragtune_documents')").fetchone()[0]
            return db.execute("SELECT COUNT(*) FROM ragtune_documents").fetchone()[0] if exists else 0
    con = sqlite3.connect(proj.workdir / "index.db", timeout=30)
    try:
        return con.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        con.close()


def test_sigkill_mid_ingest_then_rerun_matches_clean_run(tmp_path, corpus, backend, init_project):
    from ragtune import Project

    folder = tmp_path / "many"
    folder.mkdir()
    base = (corpus / "supply_agreement.md").read_text()
    for i in range(60):
        (folder / f"doc{i:02d}.md").write_text(base.replace("Globex", f"Globex{i}") * 3)
    killed = init_project(tmp_path / "killed", backend)
    proc = subprocess.Popen([sys.executable, "-m", "ragtune.cli", "ingest", str(folder), "-p", str(killed.root),
                             "--json"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and _documents(killed) < 15:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = _documents(killed)
    assert 0 < partial < 60, "the kill should land halfway"
    resumed = Project(killed.root).ingest([folder])
    assert resumed.files_unchanged == partial and resumed.files_ingested == 60 - partial
    clean = Project.init(tmp_path / "clean").ingest([folder])
    assert resumed.chunks_total == clean.chunks_total


def test_an_index_built_without_chunk_context_must_be_rebuilt(tmp_path):
    from ragtune.errors import ConfigError
    from ragtune.index.sqlite_store import SQLiteStore

    old = SQLiteStore(tmp_path / "index.db", "m")
    old.db.execute("DELETE FROM meta WHERE key='indexed_text'")  # as written before chunk context was indexed
    old.close()
    with pytest.raises(ConfigError, match="ingest --rebuild"):
        SQLiteStore(tmp_path / "index.db", "m")
    SQLiteStore(tmp_path / "index.db", "m", indexed="text").close()  # index.context: false reads it
