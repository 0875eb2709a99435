"""Must-show of the finance pack: a filing's cash-flow statement (a PDF written here with fpdf2, its table ruled as
filings print them), a question in FinanceBench's style answered with the number from the table row, cited."""

from __future__ import annotations

from pathlib import Path

import pytest

ROWS = [("Net income", "4,582", "5,363"), ("Depreciation and amortization", "1,593", "1,488"),
        ("Net cash provided by operating activities", "7,070", "6,439"),
        ("Purchases of property, plant and equipment (PP&E)", "(1,699)", "(1,577)"),
        ("Proceeds from sale of PP&E and other assets", "123", "262"),
        ("Acquisitions, net of cash acquired", "(4,984)", "13")]


def write_filing(path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=10)
    pdf.add_page()
    pdf.multi_cell(0, 6, "Acme Industrial Company and Subsidiaries. Item 7. Management's discussion and analysis. "
                         "Sales grew in every business group during the year, and the company kept investing in "
                         "its plants.")
    pdf.ln(4)
    pdf.cell(0, 8, "Consolidated Statement of Cash Flows (Millions)", new_x="LMARGIN", new_y="NEXT")
    with pdf.table(col_widths=(110, 40, 40), text_align=("LEFT", "RIGHT", "RIGHT")) as table:
        for cells in [("Years ended December 31", "2019", "2018"), *ROWS]:
            row = table.row()
            for cell in cells:
                row.cell(cell)
    pdf.output(str(path))


@pytest.mark.xfail(reason="needs the loaders' table rows and the pack wiring of the strategies", strict=False)
def test_capital_expenditure_is_read_from_the_table_row_and_cited(new_project, tmp_path):
    folder = tmp_path / "filings"
    folder.mkdir()
    write_filing(folder / "ACME_2019_10K.pdf")
    new_project.config.answer.pack = "finance"
    new_project.ingest([folder])
    answer = new_project.ask("What is the FY2019 capital expenditure amount (in USD millions) for Acme?")
    assert answer.answer.startswith("$1,699 million [1]"), answer.answer
    cited = answer.chunks[0]["text"]
    assert "Purchases of property, plant and equipment (PP&E) | 2019: (1,699)" in cited
