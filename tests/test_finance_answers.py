"""Must-show of the finance pack: a filing's cash-flow statement (a PDF written here with fpdf2, its table ruled as
filings print them), a question in FinanceBench's style answered with the number from the table row, cited."""

from __future__ import annotations

import os
import re
from pathlib import Path

ROWS = [("Net income", "4,582", "5,363"), ("Depreciation and amortization", "1,593", "1,488"),
        ("Company pension and postretirement contributions", "(113)", "(370)"),
        ("Stock-based compensation expense", "244", "302"), ("Deferred income taxes", "(10)", "(57)"),
        ("Net cash provided by operating activities", "7,070", "6,439"),
        ("Purchases of property, plant and equipment (PP&E)", "(1,699)", "(1,577)"),
        ("Proceeds from sale of PP&E and other assets", "123", "262"),
        ("Acquisitions, net of cash acquired", "(4,984)", "13"),
        ("Purchases of marketable securities and investments", "(1,635)", "(2,728)"),
        ("Net cash used in investing activities", "(6,444)", "222"),
        ("Dividends paid to shareholders", "(3,316)", "(3,193)")]


def write_filing(path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=10)
    pdf.add_page()
    pdf.multi_cell(0, 6, "Acme Industrial Company and Subsidiaries. Item 7. Management's discussion and analysis. "
                         "Sales grew in every business group during the year, and the company kept investing in "
                         "its plants.")
    pdf.ln(4)
    pdf.cell(80, 8, "Consolidated Statement of Cash Flows", new_x="LMARGIN", new_y="NEXT")
    with pdf.table(col_widths=(110, 40, 40), text_align=("LEFT", "RIGHT", "RIGHT")) as table:
        for cells in [("(Millions)", "2019", "2018"), *ROWS]:
            row = table.row()
            for cell in cells:
                row.cell(cell)
    pdf.output(str(path))


def test_capital_expenditure_is_read_from_the_table_row_and_cited(new_project, tmp_path):
    folder = tmp_path / "filings"
    folder.mkdir()
    write_filing(folder / "ACME_2019_10K.pdf")
    new_project.config.answer.pack = "finance"
    new_project.ingest([folder])
    answer = new_project.ask("What is the FY2019 capital expenditure amount (in USD millions) for Acme?")
    m = re.match(r"\$1,699 million \[(\d)\]\. ", answer.answer)
    assert m, answer.answer
    cited = answer.chunks[int(m.group(1)) - 1]["text"]
    assert ("Consolidated Statement of Cash Flows (Millions) | Purchases of property, plant and equipment (PP&E) | "
            "2019: (1,699) | 2018: (1,577)") in cited


FINANCEBENCH = Path(os.environ.get("FINANCEBENCH_DEV", Path(__file__).resolve().parents[2] / "shared" / "data" /
                                   "financebench_dev"))


def excerpt(source: Path, pages: list[int], out: Path) -> None:
    """The given 1-based ``pages`` of a real filing as a PDF of their own (PDFium copies them unchanged)."""
    import pypdfium2

    src, dst = pypdfium2.PdfDocument(source), pypdfium2.PdfDocument.new()
    try:
        dst.import_pages(src, [p - 1 for p in pages])
        dst.save(out)
    finally:
        dst.close()
        src.close()


def test_a_real_filings_capital_expenditure_is_read_from_its_cash_flow_row(new_project, tmp_path):
    """PepsiCo's FY2021 10-K (a development filing of FinanceBench), its cash-flow statement page (63) and the page
    before it, asked FinanceBench's question: the answer is the "Capital spending" row's FY2021 cell, cited."""
    import pytest

    filing = FINANCEBENCH / "pdfs" / "PEPSICO_2021_10K.pdf"
    if not filing.is_file():
        pytest.skip(f"needs {filing} (../shared/data/financebench_dev)")
    folder = tmp_path / "filings"
    folder.mkdir()
    excerpt(filing, [62, 63], folder / "PEPSICO_2021_10K.pdf")
    new_project.config.answer.pack = "finance"
    new_project.ingest([folder])
    answer = new_project.ask("What is the FY2021 capital expenditure amount (in USD billions) for PepsiCo? Respond "
                             "to the question by assuming the perspective of an investment analyst who can only use "
                             "the details shown within the statement of cash flows.", strategy="extract+compute",
                             pipeline="operand_queries+hybrid+operand_rows")
    m = re.match(r"\$4\.6\d? billion \[(\d)\]", answer.answer)
    assert m, answer.answer
    cited = answer.chunks[int(m.group(1)) - 1]["text"]
    assert re.search(r"Capital spending \| [^|]*2021[^|]*: \(4,625\)", cited), cited
