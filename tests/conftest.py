"""Shared fixtures. Tests use the real shipped embedder and LLM, offline."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

DATA = Path(__file__).parent / "data"


def write_pdf(path: Path, pages: list[str]) -> None:
    """A real multi-page PDF with extractable text."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    pdf.output(str(path))


def write_docx(path: Path) -> None:
    import docx

    d = docx.Document()
    d.core_properties.title = "Warranty Policy"
    d.add_heading("Warranty Policy", level=1)
    d.add_paragraph("Acme Widgets are covered by a limited warranty of twenty-four (24) months from delivery.")
    d.add_heading("Exclusions", level=2)
    d.add_paragraph("The warranty does not cover damage caused by immersion in water.")
    d.save(str(path))


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Path:
    """The small test corpus in every supported format."""
    root = tmp_path_factory.mktemp("corpus")
    shutil.copytree(DATA / "corpus", root, dirs_exist_ok=True)
    write_pdf(root / "handbook.pdf", [
        "Employee Handbook. Chapter 1: Working hours are 9 am to 5 pm, Monday to Friday.",
        "Chapter 2: Employees receive twenty-five (25) days of paid vacation per year.",
    ])
    write_docx(root / "warranty.docx")
    return root


@pytest.fixture(scope="session")
def project(tmp_path_factory, corpus):
    """An initialised project with the test corpus ingested (shared: read-only use)."""
    from ragtune import Project

    proj = Project.init(tmp_path_factory.mktemp("proj"))
    proj.ingest([corpus])
    yield proj
    proj.close()


@pytest.fixture(scope="session")
def contracts_project(project):
    """The session project under the contracts pack and its pipeline (same index, config in memory)."""
    from ragtune.project import Project, with_domain

    proj = Project(project.root, config=with_domain(project.config, "contracts"))
    yield proj
    proj.close()


@pytest.fixture
def new_project(tmp_path):
    from ragtune import Project

    proj = Project.init(tmp_path / "p")
    yield proj
    proj.close()


# The store backends. Tests that exercise the store take `backend` (or `store_project` / `new_store_project`)
# and run on both: SQLite, and PostgreSQL + pgvector on one server for the session, a fresh database per project.
BACKENDS = ["sqlite", "postgres"]
_databases = itertools.count()


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    """PostgreSQL 16 with pgvector (PyPI's pgserver), started once and deleted at the end of the session."""
    pgserver = pytest.importorskip("pgserver")
    server = pgserver.get_server(tmp_path_factory.mktemp("pgdata"), cleanup_mode="delete")
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def new_database(pg_server) -> Callable[[], str]:
    """Makes an empty database on the session server; returns its postgresql:// URL."""
    import psycopg

    def make() -> str:
        name = f"ragtune_test_{next(_databases)}"
        with psycopg.connect(pg_server.get_uri(), autocommit=True) as db:
            db.execute(f"CREATE DATABASE {name}")
        return pg_server.get_uri(database=name)

    return make


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def init_project(request) -> Callable[..., Any]:
    """``init(root, backend)``: Project.init(root), its ragtune.yaml on that store backend (postgres: a fresh
    database on the session server)."""
    from ragtune import Project
    from ragtune.config import StoreConfig

    def init(root: Path, backend: str = "sqlite") -> Project:
        proj = Project.init(root)
        if backend == "postgres":
            proj.config.store = StoreConfig(backend="postgres", url=request.getfixturevalue("new_database")())
            proj.config_path.write_text(proj.config.dump(), encoding="utf-8")
        return proj

    return init


@pytest.fixture(scope="session")
def store_project(request, backend, tmp_path_factory, corpus, init_project):
    """``project`` on each store backend (read-only use)."""
    if backend == "sqlite":
        yield request.getfixturevalue("project")
        return
    proj = init_project(tmp_path_factory.mktemp("proj-pg"), "postgres")
    proj.ingest([corpus])
    yield proj
    proj.close()


@pytest.fixture
def new_store_project(tmp_path, backend, init_project):
    """``new_project`` on each store backend."""
    proj = init_project(tmp_path / "p", backend)
    yield proj
    proj.close()


XSS_DOC = ("Security notice. The override code is <script>alert('xss')</script> and it must be shown as text. "
           "The notice period for the override is ten (10) days.\n")


class Served:
    """A running `ragtune serve` app (uvicorn in a thread, on a free 127.0.0.1 port) and its project folder."""

    def __init__(self, app, root: Path, port: int, server, thread) -> None:
        self.app, self.root, self.port, self.server, self.thread = app, root, port, server, thread
        self.url = f"http://127.0.0.1:{port}"

    @property
    def state(self):
        return self.app.state.ragtune

    def client(self, **kwargs):
        import httpx

        return httpx.Client(base_url=self.url, timeout=120, **kwargs)


def start_server(root: Path):
    """Serve the project at ``root`` on a free loopback port; returns a Served (stop it with stop_server)."""
    import socket
    import threading
    import time

    import uvicorn

    from ragtune.server.app import create_app

    app = create_app(root)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    return Served(app, root, port, server, thread)


def stop_server(served: Served) -> None:
    served.server.should_exit = True
    served.thread.join(timeout=30)


@pytest.fixture(scope="session")
def served(tmp_path_factory, corpus):
    """One server for the session, on its own project: the test corpus plus a document holding <script>."""
    from ragtune import Project

    docs = tmp_path_factory.mktemp("served-docs")
    shutil.copytree(corpus, docs, dirs_exist_ok=True)
    (docs / "security_notice.txt").write_text(XSS_DOC, encoding="utf-8")
    proj = Project.init(tmp_path_factory.mktemp("served") / "proj")
    proj.ingest([docs])
    proj.close()
    running = start_server(proj.root)
    yield running
    stop_server(running)
