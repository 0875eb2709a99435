"""extract+compute: a calculation's operands read from table rows, evaluated safely, every operand cited; a
calculation the passages cannot support is refused; other questions are answered as extract answers them."""

import pytest

from ragtune.documents.models import Chunk
from ragtune.generation.config import AnswerConfig
from ragtune.generation.strategies import strategies
from ragtune.generation.strategies.selection import SentenceSelector
from ragtune.packs import make_pack
from ragtune.packs.finance.formulas import calculation

BALANCE = ("Consolidated Balance Sheets (In thousands) | Total current liabilities | November 27, 2015: 2,213,556 | "
           "November 28, 2014: 2,494,435\n")
CASH_FLOWS = ("Consolidated Statements of Cash Flows (In thousands) | Net cash provided by operating activities | "
              "2015: 1,469,502 | 2014: 1,287,482 | 2013: 1,151,686\n")
RATIO = ("What is the FY2015 operating cash flow ratio for Adobe? Operating cash flow ratio is defined as: cash from "
         "operations / total current liabilities. Round your answer to two decimal places.")


def chunk(n: int, text: str) -> Chunk:
    return Chunk(f"c{n}", "ADOBE_2015_10K.pdf", text, 0, len(text), n, 50)


@pytest.fixture(scope="module")
def compute(project):
    config = AnswerConfig(strategy="extract+compute", pack="finance")
    return strategies.get("extract+compute")(config, None, SentenceSelector(config, project.embedder),
                                             pack=make_pack("finance"))


def test_a_defined_ratio_is_computed_with_every_operand_cited(compute):
    text = compute.respond(RATIO, [chunk(1, "Prose about the year."), chunk(2, CASH_FLOWS), chunk(3, BALANCE)], [])
    assert text.startswith("0.66 [2][3].")
    assert "cash from operations FY2015 = Net cash provided by operating activities" in text
    assert "[2]" in text.split("where")[1] and "[3]" in text.split("where")[1]


def test_a_missing_operand_is_refused_not_guessed(compute):
    text = compute.respond(RATIO, [chunk(1, CASH_FLOWS)], [])
    assert text.startswith("The documents do not contain the answer")
    assert "total current liabilities FY2015" in text


def test_a_value_looked_up_is_read_from_its_row_and_cited(compute):
    question = "What is the FY2015 total current liabilities for Adobe?"
    assert calculation(question).expression == "total_current_liabilities_2015"
    text = compute.respond(question, [chunk(1, "Prose about the year."), chunk(2, BALANCE)], [])
    assert text == ("2,213.56 million [2]. Total current liabilities FY2015: Total current liabilities, "
                    "November 27, 2015: 2,213,556 thousand [2].")
    asked = "What is Adobe's year end FY2015 total current liabilities (in USD billions)?"
    assert compute.respond(asked, [chunk(1, BALANCE)], []).startswith("$2.21 billion [1].")


def test_questions_without_a_calculation_are_extracted(compute):
    question = "Which segment of Adobe grew the fastest in FY2015?"
    assert calculation(question) is None
    assert calculation("What drove the change in total current liabilities in FY2015?") is None  # not a lookup
    assert "2,213,556" in compute.respond("What were Adobe's total current liabilities?", [chunk(1, BALANCE)], [])


@pytest.mark.parametrize(("question", "expression"), [
    ("What is Amazon's year-over-year change in revenue from FY2016 to FY2017 (in units of percents and round to "
     "one decimal place)?", "(revenue_2017 - revenue_2016) / revenue_2016 * 100"),
    ("What is Lockheed Martin's FY2021 net working capital? Define net working capital as total current assets "
     "less total current liabilities. Answer in USD millions.",
     "total_current_assets_2021 - total_current_liabilities_2021"),
    ("What is the FY2019 - FY2020 total revenue growth rate for Block?",
     "(total_revenue_2020 - total_revenue_2019) / total_revenue_2019 * 100"),
    ("What is Kraft Heinz's FY2019 inventory turnover ratio? Inventory turnover ratio is defined as: (FY2019 COGS) / "
     "(average inventory between FY2018 and FY2019).", "(cogs_2019) / (avg(inventory_2018, inventory_2019))"),
])
def test_calculations_are_read_from_the_question(question, expression):
    assert calculation(question).expression == expression


def test_yes_no_questions_ask_for_a_verdict_or_no_calculation():
    working = calculation("Does Corning have positive working capital based on FY2022 data?")
    assert working.verdict and working.expression == "total_current_assets_2022 - total_current_liabilities_2022"
    quick = calculation("Does AMD have a reasonably healthy liquidity profile based on its quick ratio for FY22?")
    assert quick.expression == "(total_current_assets_2022 - inventories_2022) / total_current_liabilities_2022"
    margin = calculation("Does Adobe have an improving operating margin profile as of FY2022?")
    assert margin.expression == ("((operating_income_2022 / revenue_2022) - (operating_income_2021 / revenue_2021))"
                                 " * 100")
    debt = calculation("Has Microsoft increased its debt on balance sheet between FY2023 and the FY2022 period?")
    assert debt.expression == "((total_debt_2023) - (total_debt_2022))"
    assert calculation("Were there any events that substantially increased net income in 2019?") is None
    assert calculation("As of Q2'2023, is Pfizer spinning off any large business segments?") is None


BALANCE_2022 = ("Consolidated Balance Sheets (In millions) | Inventories | December 31, 2022: 2,904 | "
                "December 31, 2021: 2,481\n"
                "Consolidated Balance Sheets (In millions) | Total current assets | December 31, 2022: 8,234 | "
                "December 31, 2021: 9,470\n"
                "Consolidated Balance Sheets (In millions) | Total current liabilities | December 31, 2022: 7,403 | "
                "December 31, 2021: 6,009\n")


def test_a_verdict_is_computed_from_its_rule_and_cites_its_operands(compute):
    question = "Does Corning have positive working capital based on FY2022 data?"
    text = compute.respond(question, [chunk(1, "Prose about the year."), chunk(2, BALANCE_2022)], [])
    assert text.startswith("Yes: working capital FY2022 is 831 million (Yes when > 0) [2].")
    quick = compute.respond("Does Corning have a healthy liquidity profile based on its quick ratio in FY2022?",
                            [chunk(1, BALANCE_2022)], [])
    assert quick.startswith("No: quick ratio FY2022 is 0.72 (Yes when >= 1) [1].")  # (8,234 - 2,904) / 7,403
    fell = compute.respond("Did Corning's total current assets decrease between FY2021 and FY2022?",
                           [chunk(1, BALANCE_2022)], [])
    assert fell.startswith("Yes: the change in total current assets from FY2021 to FY2022 is -1,236 million")


def test_a_verdict_without_its_operands_is_extracted_not_refused(compute):
    question = "Does Corning have positive working capital based on FY2022 data?"
    text = compute.respond(question, [chunk(1, "Corning's working capital remained strong at year end.")], [])
    assert not text.startswith("The documents do not contain") and not text.startswith(("Yes", "No"))


def test_operand_queries_search_for_each_operand(project):
    from dataclasses import replace

    from ragtune.retrieval.pipeline import QueryContext, components
    from ragtune.retrieval.pre.operand_queries import OperandQueries

    resources = replace(project.retrieval_resources, pack=make_pack("finance"))
    stage = components.get("operand_queries")(OperandQueries.Config(name="operand_queries"), resources)
    ctx = QueryContext(RATIO, 4, 30)
    stage.run(ctx)
    assert ctx.queries == [RATIO, "What is the FY2015 cash from operations?",
                           "What is the FY2015 total current liabilities?"]
    plain = QueryContext("What is the FY2015 total current liabilities?", 4, 30)
    stage.run(plain)
    assert plain.queries == [plain.question]


FILING = """# Adobe Annual Report 2015

## Management's discussion

{prose}

## Consolidated Balance Sheets (In thousands)

| | November 27, 2015 | November 28, 2014 |
|---|---|---|
| Total current assets | 4,821,892 | 4,200,000 |
| Total current liabilities | 2,213,556 | 2,494,435 |

## Notes

{prose}

## Consolidated Statements of Cash Flows (In thousands)

| | 2015 | 2014 |
|---|---|---|
| Net income | 629,551 | 268,395 |
| Net cash provided by operating activities | 1,469,502 | 1,287,482 |
"""


def test_operand_rows_bring_each_operands_row_and_the_answer_cites_them(tmp_path):
    from ragtune import Project

    prose = " ".join(f"Our subscription revenue grew in region {i} as customers adopted the cloud offering."
                     for i in range(60))
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "adobe.md").write_text(FILING.format(prose=prose), encoding="utf-8")
    project = Project.init(tmp_path / "p", domain="finance")
    try:
        project.ingest([tmp_path / "docs"])
        plain = project.ask(RATIO, strategy="extract+compute", pipeline="hybrid", top_k=1)
        answer = project.ask(RATIO, strategy="extract+compute", pipeline="hybrid+operand_rows", top_k=1)
    finally:
        project.close()
    assert plain.answer.startswith("The documents do not contain")  # one passage cannot hold both rows
    assert answer.answer.startswith("0.66 [1][2].")
    assert {c.n for c in answer.citations} == {1, 2}
    stage = next(s for s in answer.stages if s["stage"] == "operand_rows")
    assert len(stage["details"]["operand_chunks"]) == 2 and stage["details"]["not_found"] == []
