"""Shared fixtures. Tests use the real shipped embedder and LLM, offline."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

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


@pytest.fixture
def new_project(tmp_path):
    from ragtune import Project

    proj = Project.init(tmp_path / "p")
    yield proj
    proj.close()
