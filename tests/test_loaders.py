from pathlib import Path

import pytest

from conftest import write_pdf
from ragtune.documents.loaders import LoadError, loader_for
from ragtune.text import is_table_row


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


def test_pdf_table_rows_keep_their_headers_title_and_scale(tmp_path):
    from fpdf import FPDF

    items = ["Net income", "Depreciation", "Stock-based compensation", "Deferred income taxes", "Trade payables",
             "Deferred revenue", "Purchases of property and equipment", "Repurchases of common stock",
             "Net change in cash"]
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=10)
    pdf.multi_cell(0, 6, "Our cash flows were strong this year. The table below shows them.")
    pdf.cell(0, 8, "Consolidated Statements of Cash Flows", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, "(In millions)", new_x="LMARGIN", new_y="NEXT")
    with pdf.table(col_widths=(90, 30, 30, 30), text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT"),
                   borders_layout="NONE", first_row_as_headings=False) as table:
        table.row(["", "2022", "2021", "2020"])
        for i, item in enumerate(items):
            table.row([item, f"({1000 + i * 37:,})", f"{900 + i:,}", f"{1010 + i * 11:,}"])
    path = tmp_path / "filing.pdf"
    pdf.output(str(path))
    _, pages = load(path)
    lines = pages[0].text.splitlines()
    assert "Our cash flows were strong this year. The table below shows them." in pages[0].text
    row = next(line for line in lines if "Purchases of property" in line)
    assert row == ("Consolidated Statements of Cash Flows (In millions) | Purchases of property and equipment | "
                   "2022: (1,222) | 2021: 906 | 2020: 1,076")
    assert is_table_row(row) and sum(map(is_table_row, lines)) == len(items)
    plain = loader_for(path, tables=False).load(path, path.read_bytes())[0].text
    assert not any(is_table_row(line) for line in plain.splitlines())


def test_html_docx_and_markdown_tables_become_rows_with_headers(tmp_path):
    import docx

    html = tmp_path / "t.html"
    html.write_text("<html><body><h2>Segment revenue (in millions)</h2><p>Cloud grew.</p><table>"
                    "<thead><tr><th>Segment</th><th>2022</th><th>2021</th></tr></thead>"
                    "<tr><td>Cloud</td><td>$1,204</td><td>987</td></tr></table><p>After.</p></body></html>")
    md = tmp_path / "t.md"
    md.write_text("# Report\n\n## Segment revenue (in millions)\n\n| Segment | 2022 | 2021 |\n|---|---:|---:|\n"
                  "| Cloud | $1,204 | 987 |\n\nAfter.\n")
    d = docx.Document()
    d.add_heading("Segment revenue (in millions)", level=2)
    t = d.add_table(rows=2, cols=3)
    for cell, text in zip(t.rows[0].cells + t.rows[1].cells, ["Segment", "2022", "2021", "Cloud", "$1,204", "987"],
                          strict=True):
        cell.text = text
    d.add_paragraph("After.")
    d.save(str(tmp_path / "t.docx"))
    expected = "Segment revenue (in millions) | Cloud | 2022: $1,204 | 2021: 987"
    for name in ("t.html", "t.md", "t.docx"):
        _, pages = load(tmp_path / name)
        lines = [line.strip() for line in pages[0].text.splitlines()]
        assert expected in lines, (name, pages[0].text)
        assert lines.index(expected) < lines.index("After."), name
