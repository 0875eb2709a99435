"""The finance pack's readers: amounts with scale and unit, fiscal periods, and a question's line item and period
matched to a table row and column. Row lines are written as the loaders write them, from lines of public
FinanceBench filings (PepsiCo 2021 10-K p. 62, Boeing 2018 10-K p. 51, Best Buy 2019 10-K p. 51)."""

from __future__ import annotations

import pytest

from ragtune.packs.finance.amounts import asked_scale, asks_percent, parse_cell, table_scale
from ragtune.packs.finance.line_items import asked_items
from ragtune.packs.finance.periods import Period, header_period, question_periods
from ragtune.packs.finance.tables import parse_row, read_rows, rows_in
from ragtune.values import amounts

CASH_FLOWS = "Consolidated Statement of Cash Flows (in millions)"
POSITION = "Consolidated Statements of Financial Position (Dollars in millions, except per share data)"


def rows(title: str, *lines: str) -> str:
    """Row lines of one table: ``title | line`` each."""
    return "".join(f"{title} | {line}\n" for line in lines)


PEPSICO = rows(CASH_FLOWS, "Net Cash Provided by Operating Activities | 2021: 11,616 | 2020: 10,613 | 2019: 9,649",
               "Capital spending | 2021: (4,625) | 2020: (4,240) | 2019: (4,232)",
               "Sales of property, plant and equipment | 2021: 166 | 2020: 55 | 2019: 170",
               "Tax expense/(benefit) related to the TCJ Act | 2021: 190 | 2020: — | 2019: (8)")
BOEING = rows(POSITION, "Total current assets | December 31, 2018: 87,830 | 2017: 85,194",
              "Property, plant and equipment, net | December 31, 2018: 12,645 | 2017: 12,672",
              "Total assets | December 31, 2018: $117,359 | 2017: $112,362",
              "Accounts payable | December 31, 2018: $12,916 | 2017: $12,202",
              "Total current liabilities | December 31, 2018: 81,590 | 2017: 74,648")
THREE_M = ("Consolidated Statement of Cash Flows (Millions) | Purchases of property, plant and equipment (PP&E) | "
           "2019: (1,699) | 2018: (1,577)\n"
           "Consolidated Statement of Cash Flows (Millions) | Proceeds from sale of PP&E and other assets | "
           "2019: 123 | 2018: 262\n")


@pytest.mark.parametrize(("text", "value", "percent"), [
    ("(1,204)", -1204.0, False), ("$ (1,699)", -1699.0, False), ("1,204 million", 1.204e9, False),
    ("$1.2bn", 1.2e9, False), ("$2,018mn", 2.018e9, False), ("-$473 million", -4.73e8, False),
    ("12.6%", 12.6, True), ("$20 billion", 2e10, False), ("$400,000,000", 4e8, False)])
def test_amounts_with_scale_sign_and_unit(text, value, percent):
    [a] = amounts(text)
    assert a.value == pytest.approx(value) and a.percent is percent


def test_cells_dashes_and_table_scale():
    assert parse_cell("—").value == 0 and parse_cell("–", 1e6).value == 0
    assert parse_cell("(4,625)", 1e6).value == pytest.approx(-4.625e9)
    assert parse_cell("n/a") is None
    assert table_scale("Consolidated Statements of Cash Flows (in millions)") == 1e6
    assert table_scale("CONSOLIDATED BALANCE SHEETS (In thousands, except par value)") == 1e3
    assert table_scale("Selected data ($ in billions)") == 1e9
    assert table_scale("Consolidated Statement of Cash Flows (Millions)") == 1e6
    assert table_scale("(Dollars in millions, except per share data)") == 1e6
    assert table_scale("Segment results") == 1.0


def test_the_unit_a_question_asks_for():
    assert asked_scale("What is the FY2019 capital expenditure amount (in USD millions) for 3M?") == 1e6
    assert asked_scale("How much (in USD billions) did American Water Works pay out in cash dividends?") == 1e9
    assert asked_scale("Answer in USD thousands.") == 1e3
    assert asked_scale("What is the FY2015 operating cash flow ratio for Adobe?") is None
    assert asks_percent("Answer in units of percents and round to one decimal place.")


@pytest.mark.parametrize(("text", "periods"), [
    ("What is the FY2019 capital expenditure", [Period(2019)]),
    ("in fiscal 2019", [Period(2019)]),
    ("Did Pfizer grow its PPNE between FY20 and FY21?", [Period(2020), Period(2021)]),
    ("net revenue in 2021 Q1", [Period(2021, 1, 3)]),
    ("as oF Q2 of FY2023 close", [Period(2023, 2, 3)]),
    ("As of Q2'2023, is Pfizer", [Period(2023, 2, 3)]),
    ("As of FY2023Q1, why", [Period(2023, 1, 3)]),
    ("for the three months ended June 30, 2023", [Period(2023, 2, 3)]),
    ("in H1 FY2023", [Period(2023, None, 6)]),
])
def test_question_periods(text, periods):
    assert question_periods(text) == periods


def test_header_periods():
    assert header_period("Year Ended December 31, 2022") == Period(2022)
    assert header_period("December 31, 2018") == Period(2018)
    assert header_period("Three Months Ended June 30, 2023") == Period(2023, 2, 3)
    assert header_period("Fiscal 2019") == Period(2019)
    assert header_period("Change") is None
    assert header_period("August 29,2021") == Period(2021)  # a comma without its space, as PDFs print it


def test_row_lines_parse():
    row = parse_row(THREE_M.splitlines()[0])
    assert row.title == "Consolidated Statement of Cash Flows (Millions)"
    assert row.label == "Purchases of property, plant and equipment (PP&E)"
    assert row.cells == (("2019", "(1,699)"), ("2018", "(1,577)"))
    assert parse_row("Net sales rose 5% in 2019: a strong year.") is None
    long = ("NETFLIX, INC. (in thousands, except share and per share data) | Total current liabilities | CONSOLIDATED "
            "BALANCE SHEETS (in thousands, except share and per share data) As of December 31, 2017: 5,466,312")
    assert parse_row(long).cells[0][1] == "5,466,312"  # a header that repeats a long title still parses
    assert len(rows_in(PEPSICO + "\nSome prose line.\n")) == 4


def test_capital_expenditure_reads_the_ppe_purchases_row_in_the_asked_unit():
    q = "What is the FY2019 capital expenditure amount (in USD millions) for 3M?"
    best = read_rows(q, rows_in(THREE_M))[0]
    assert best.row.label.startswith("Purchases of property") and best.header == "2019"
    assert best.text == "$1,699 million"
    q = ("What is the FY2021 capital expenditure amount (in USD billions) for PepsiCo? Respond to the question by "
         "assuming the perspective of an investment analyst who can only use the details shown within the "
         "statement of cash flows.")
    best = read_rows(q, rows_in(PEPSICO))[0]
    assert best.row.label == "Capital spending" and best.text == "$4.62 billion"


@pytest.mark.parametrize(("question", "label", "text"), [
    ("Using only the information within the balance sheet, how much total assets did Boeing have at the end of "
     "FY2018? Answer in USD millions.", "Total assets", "$117,359 million"),
    ("what is Boeing's year end FY2018 net property, plant, and equipment (in USD millions)?",
     "Property, plant and equipment, net", "$12,645 million"),
    ("Basing your judgments off of the balance sheet, what is the year end FY2017 amount of accounts payable for "
     "Boeing? Answer in USD millions.", "Accounts payable", "$12,202 million"),
    ("What is Boeing's year end FY2018 total current liabilities (in USD millions)?", "Total current liabilities",
     "$81,590 million"),
])
def test_balance_sheet_line_items(question, label, text):
    best = read_rows(question, rows_in(BOEING))[0]
    assert (best.row.label, best.text) == (label, text)


def test_a_table_without_a_scale_note_is_read_in_the_unit_asked():
    line = "Consolidated Balance Sheets | Merchandise inventories | February 2, 2019: 5,409 | February 3, 2018: 5,209"
    q = "What is the year end FY2019 total amount of inventories for Best Buy? Answer in USD millions."
    assert read_rows(q, rows_in(line))[0].text == "$5,409 million"


def test_no_row_for_an_unnamed_item_or_a_missing_period():
    assert read_rows("What is the FY2016 capital expenditure amount (in USD millions)?", rows_in(THREE_M)) == []
    assert asked_items("Who is the CEO?") == []


def test_finance_pack_hooks():
    from ragtune.packs import make_pack

    pack = make_pack("finance")
    capex = "What is the FY2019 capital expenditure amount (in USD millions) for 3M?"
    debt = "Has Microsoft increased its debt on balance sheet between FY2023 and the FY2022 period?"
    assert pack.form(capex) == "line_item:capital expenditure" and pack.form(debt) == "change"
    assert pack.form("What is the FY2019 adjusted EBITDA?") == "line_item"
    assert pack.form("How much does Pfizer expect to pay to spin off Upjohn in USD million?") == "amount"
    assert pack.form("Which region had the Highest EBITDAR Contribution for MGM during FY2022?") is None
    assert pack.form("Has MGM Resorts paid dividends to common shareholders in FY2022?") is None  # no verdict rule
    ppe, proceeds = THREE_M.splitlines()
    form = pack.form(capex)
    assert pack.states_form(form, ppe) and not pack.states_form(form, proceeds)
    assert pack.states_form("line_item", proceeds) and not pack.states_form(form, "Capital spending rose.")
    assert pack.read(capex, form, ppe) == ["$1,699 million"]
    assert pack.read(capex, form, proceeds) == []
    assert pack.read("What was the Adjusted EBITDA for FY 2023?", "line_item",
                     "Adjusted EBITDA of $2,018 million in fiscal 2023, up 3%.")[0] == "$2,018 million"
    row = "Balance Sheets (In millions) | Long-term debt | June 30, 2023: 41,990 | 2022: 47,032"
    assert pack.read(debt, "change", row) == ["No: Long-term debt 41,990 in FY2023 against 47,032 in FY2022"]
    assert not pack.yes_no(debt) and pack.yes_no("Has MGM Resorts paid dividends to common shareholders in FY2022?")
    assert not pack.yes_no(capex) and not pack.about_document("What is the effective date of the new standard?")


def test_an_operand_is_not_read_from_a_qualified_or_flow_row():
    from ragtune.packs.base import Operand
    from ragtune.packs.finance.formulas import read_operand

    def operand(item: str) -> Operand:
        return Operand("x", f"{item} FY2017", f"What is the FY2017 {item}?")

    flows = rows(CASH_FLOWS, "Inventories | Year Ended December 31, 2017: (3,583) | 2016: (1,426)",
                 "Accounts payable | Year Ended December 31, 2017: 7,175 | 2016: 5,030",
                 "Depreciation and amortization | 2017: 11,478 | 2016: 8,116")
    assert read_operand(operand("inventories"), flows) is None  # a balance's change, not the balance
    assert read_operand(operand("accounts payable"), flows) is None
    assert read_operand(operand("depreciation and amortization"), flows)[0] == 11_478e6  # a flow is read there
    other = rows(POSITION, "Unearned revenue | December 31, 2017: 738 | 2016: 1,955",
                 "Average accounts payable | December 31, 2017: 30,000 | 2016: 25,000",
                 "Accumulated depreciation and amortization | December 31, 2017: 83,039 | 2016: 77,479")
    assert read_operand(operand("dividends paid"), rows(CASH_FLOWS, "Dividends received | 2017: 107.5")) is None
    for item in ("revenue", "accounts payable", "depreciation and amortization"):
        assert read_operand(operand(item), other) is None, item


def test_the_operand_is_taken_from_the_table_that_states_its_scale():
    from ragtune.packs.base import Operand
    from ragtune.packs.finance.formulas import pick_operand

    capex = Operand("x", "capital expenditure FY2021", "What is the FY2021 capital expenditure (in USD billions)?")
    unscaled = "Cash Flow Summary | Capital spending | 2021: (4,625) | 2020: (4,240)\n"
    assert pick_operand(capex, ["Prose.", unscaled, PEPSICO]) == (2, 4.625e9, "Capital spending, 2021: $4.62 billion")
    assert pick_operand(capex, [unscaled])[0] == 0  # none better: the unscaled row, in the unit asked
    assert pick_operand(capex, ["Prose."]) is None


def test_the_operand_is_taken_from_a_financial_statement_over_a_segment_table():
    from ragtune.packs.base import Operand
    from ragtune.packs.finance.formulas import pick_operand

    revenue = Operand("x", "revenue FY2015", "What is the FY2015 revenue?")
    segment = "Segment Information (in thousands) | Revenues | Year ended December 31, 2015: 1,953,435\n"
    statement = ("Consolidated Statements of Operations (in thousands) | Revenues | Year ended December 31, 2015: "
                 "6,779,511\n")
    assert pick_operand(revenue, [segment, statement])[:2] == (1, 6_779_511e3)
