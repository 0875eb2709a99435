"""finance_check on gold/answer pairs of FinanceBench's questions (financebench_dev's questions.jsonl)."""

from __future__ import annotations

import pytest

from ragtune.evaluation.metrics import MetricEnv, Sample, build_metrics
from ragtune.evaluation.metrics.finance import check, kind

CAPEX = "What is the FY2021 capital expenditure amount (in USD billions) for PepsiCo?"
COGS = "What is the FY2016 COGS for Microsoft? Please state answer in USD millions."
RATIO = "What is the FY2015 operating cash flow ratio for Adobe? Round your answer to two decimal places."
MARGIN = "What is Lockheed Martin's FY2022 ... margin (as a %)? Answer in units of percents."


@pytest.mark.parametrize(("question", "answer", "reference", "right"), [
    (COGS, "$32,780 million [1]. Cost of revenue | 2016: 32,780", "$32780.00", True),
    (COGS, "32780", "$32780.00", True),
    (COGS, "$32.78 billion", "$32780.00", True),
    (COGS, "32,780,000 thousand", "$32780.00", True),
    (COGS, "$33,780 million", "$32780.00", False),
    (CAPEX, "$4.62 billion [1]", "$4.60", True),  # 4,625 million printed; within 1%
    (CAPEX, "$4,625 million", "$4.60", True),
    (CAPEX, "(4,625)", "$4.60", False),  # a bare number is in the unit asked: 4,625 billion
    (CAPEX, "$4.24 billion", "$4.60", False),
    (RATIO, "0.6612", "0.66", True),
    (RATIO, "0.68", "0.66", False),
    (MARGIN, "0.4%", "0.4%", True),
    (MARGIN, "0.004", "0.4%", True),
    (MARGIN, "0.4", "0.4%", True),
    (MARGIN, "4.0%", "0.4%", False),
    ("What is the FY2019 capital expenditure amount (in USD millions) for 3M?", "(1,699) [1]", "$1699.00", True),
    ("How much (in USD billions) did American Water Works pay out in cash dividends for FY2020?",
     "In FY2020 the company paid $0.40 billion", "$0.40", True),  # the year is skipped
    ("What Was AMCOR's Adjusted Non GAAP EBITDA for FY 2023", "$2,018 million [2]",
     "AMCOR's Adj. EBITDA was $2,018mn in FY 2023", True),
    ("By how much did Pepsico increase its unsecured five year revolving credit agreement on May 26, 2023?",
     "$400 million", "$400,000,000 increase.", True),
    ("How much was the Real change in Sales for AMCOR in FY 2023 vs FY 2022?", "0%",
     "The Real Growth was flat in FY 2023 vs FY 2022.", True),
    ("How much (in USD billions) did American Water Works pay out in cash dividends for FY2020?",
     "$0.39 billion", "$0.40", True),  # 389 million; "$0.40" is stated to one decimal
    (COGS, "", "$32780.00", False),  # a refusal
])
def test_numbers_with_scale_and_unit(question, answer, reference, right):
    ok, details = check(question, answer, reference)
    assert ok is right, details


@pytest.mark.parametrize(("answer", "right"), [
    ("Yes. MGM paid $0.01 per share [1].", True), ("yes", True), ("No, it did not.", False),
    ("MGM paid dividends.", False), ("", False)])
def test_yes_no_by_the_leading_verdict(answer, right):
    ok, _ = check("Has MGM Resorts paid dividends to common shareholders in FY2022?", answer,
                  "Yes. MGM maintained 0.01$ per share annual dividend through out FY 2022.")
    assert ok is right


def test_kinds_and_explanations_are_not_scored():
    assert kind("Which region had the Highest EBITDAR Contribution for MGM during FY2022?",
                "Las Vegas resorts contributed ~90% of company level EBITDAR during FY2022.") == "explanation"
    assert kind(COGS, "$32780.00") == "number"
    assert kind("Does Adobe have an improving Free cashflow conversion as of FY2022?", "Yes, the FCF ...") == "yes_no"
    assert check("What are three main companies acquired by Pfizer?", "Array", "Trillium, Array, and Therachon")[0] \
        is None


def test_registered_metric():
    from ragtune.evaluation.config import BenchConfig

    [metric] = build_metrics(["finance_check"], MetricEnv(BenchConfig()))
    sample = Sample(COGS, "$32780.00", "$32,780 million [1]", answered=True)
    assert metric.score(sample) == 1.0 and sample.notes["finance_check"]["kind"] == "number"
    assert metric.score(Sample("What are the risks?", "Many risks.", "Some.", answered=True)) is None
