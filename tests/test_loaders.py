from pathlib import Path

import pytest

from conftest import write_pdf
from ragtune.documents.loaders import LoadError, loader_for


def load(path: Path):
    loader = loader_for(path)
    pages = loader.load(path, path.read_bytes())
    return loader, pages


def test_every_format_loads(corpus):
    expected = {
        "supply_agreement.md": ("Widget Supply Agreement", "three (3) years"),
        "service_agreement.txt": ("service_agreement", "twelve thousand dollars"),
        "maintenance.html": ("Widget Maintenance Manual", "silicone oil"),
        "products.csv": ("products", "Titanium widget"),
        "incidents.jsonl": ("incidents", "Spindle seized"),
        "handbook.pdf": ("handbook", "twenty-five (25) days"),
        "warranty.docx": ("Warranty Policy", "twenty-four (24) months"),
    }
    for name, (title, phrase) in expected.items():
        loader, pages = load(corpus / name)
        assert loader.title(corpus / name, pages) == title
        assert phrase in "\n".join(p.text for p in pages), name


def test_html_drops_scripts_and_keeps_headings(corpus):
    _, pages = load(corpus / "maintenance.html")
    assert "console.log" not in pages[0].text and "Home | Products" not in pages[0].text
    assert "## Lubrication" in pages[0].text


def test_pdf_pages_and_records_are_numbered(corpus):
    _, pages = load(corpus / "handbook.pdf")
    assert [p.number for p in pages] == [1, 2] and "vacation" in pages[1].text
    _, rows = load(corpus / "products.csv")
    assert [r.number for r in rows] == [2, 3, 4]  # file line numbers
    assert "sku: W-300" in rows[2].text


@pytest.mark.parametrize("method", ["RC4", "AES_128", "AES_256"])
def test_permission_only_encrypted_pdf_opens(tmp_path, method):
    path = tmp_path / "filing.pdf"
    write_pdf(path, ["Net revenue was 4,200 million dollars."], owner_password="owner-secret", method=method)
    _, pages = load(path)
    assert "4,200 million" in pages[0].text


def test_pdf_that_needs_a_password_is_refused(tmp_path):
    path = tmp_path / "locked.pdf"
    write_pdf(path, ["Confidential."], owner_password="owner-secret", user_password="user-secret")
    with pytest.raises(LoadError, match="encrypted PDF: needs a password"):
        load(path)


@pytest.mark.parametrize("name,data,reason", [
    ("bad.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage", "corrupt PDF"),
    ("fake.pdf", b"this is not a pdf", "not a PDF"),
    ("bin.txt", b"\x00\x01\x02binary\x00", "binary file"),
    ("latin.txt", "caf\xe9".encode("latin-1"), "not valid UTF-8"),
    ("bad.jsonl", b'{"a": 1}\n{oops\n', "invalid JSON on line 2"),
    ("bad.docx", b"PK\x03\x04 not really a zip", "corrupt DOCX"),
])
def test_bad_files_raise_load_error_with_reason(tmp_path, name, data, reason):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(LoadError, match=reason):
        load(path)


def test_unknown_suffix_has_no_loader(tmp_path):
    assert loader_for(tmp_path / "x.xyz") is None
