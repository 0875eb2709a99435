"""The contracts pack's answer forms (detection from the question), the value grammar (ragtune.values) and the
deterministic answer_check metric."""

import datetime as dt
import json
from pathlib import Path

import pytest

from ragtune.demo import BENCH_QUESTIONS
from ragtune.evaluation.config import BenchConfig
from ragtune.evaluation.metrics import MetricEnv, Sample, metrics
from ragtune.generation.answer_forms import parse_yes_no
from ragtune.packs.contracts import forms
from ragtune.packs.contracts.forms import detect_form
from ragtune.packs.contracts.names import name_groups, name_tokens
from ragtune.values import PERPETUAL, parse_amounts, parse_dates, parse_durations

CUAD_SAMPLE = Path(__file__).parent / "data" / "answer_forms.jsonl"


def cuad_form(answer_format: str) -> str:
    """The answer form of a CUAD answer_format."""
    if answer_format == "Yes/No":
        return forms.YES_NO
    if answer_format.startswith("Date"):
        return forms.DATE
    if answer_format == "Entity or individual names":
        return forms.PARTIES
    if answer_format.startswith("Name of a US State"):
        return forms.PLACE
    if answer_format == "Contract Name":
        return forms.TITLE
    assert "number of" in answer_format.lower(), answer_format
    return forms.DURATION


def test_detect_form_on_cuad_questions():
    rows = [json.loads(line) for line in CUAD_SAMPLE.read_text().splitlines()]
    assert len(rows) == 40
    wrong = [r["question"] for r in rows if detect_form(r["question"]) != cuad_form(r["answer_format"])]
    # the one known miss: "What is this category includes the exceptions or carveouts ...?" (a yes/no)
    assert 1 - len(wrong) / len(rows) >= 0.95, wrong


def test_detect_form_on_demo_questions():
    rows = [json.loads(line) for line in BENCH_QUESTIONS.read_text(encoding="utf-8").splitlines()]
    asked = {row["question"]: detect_form(row["question"]) for row in rows}
    assert asked["Which state's law governs the CURO servicing agreement?"] == forms.PLACE
    assert asked["Which law governs the Galaxy Telecom reseller agreement?"] == forms.PLACE
    assert asked["On what date was the CURO servicing agreement entered into?"] == forms.DATE
    assert asked["When does the Bluefly e-business hosting agreement become effective?"] == forms.DATE
    assert asked["Who are the parties to the CURO servicing agreement?"] == forms.PARTIES
    assert asked["How long is the initial term of the Galaxy Telecom reseller agreement?"] == forms.DURATION
    assert asked["How much notice is needed to stop the Galaxy Telecom reseller agreement from renewing?"] \
        == forms.DURATION
    assert asked["Can Square Two Golf renew the endorsement agreement with Kathy Whitworth?"] == forms.YES_NO
    assert asked["What is the recipe for chocolate cake?"] is None
    assert detect_form("What is the license fee?") == forms.AMOUNT
    assert detect_form("What is the term of the agreement?") == forms.DURATION


@pytest.mark.parametrize(("text", "expected"), [
    ("Yes", True), ("No.", False), ("**Yes**, for one (1) additional five year period", True),
    ("The contract does not contain a non-compete clause.", False), ("There is no such provision.", False),
    ("Not specified in the agreement.", False), ("There is a cap on liability of $1,000,000.", True),
    ("The agreement contains a license grant to the distributor.", True), ("Delaware", None), ("", None),
])
def test_parse_yes_no(text, expected):
    assert parse_yes_no(text) is expected


@pytest.mark.parametrize("text", ["5/17/17", "5/17/2017", "May 17, 2017", "17 May 2017", "17th day of May, 2017",
                                  "17t h day of May, 2017", "the 17th day of May , 2017", "2017-05-17",
                                  "It was signed on May 17, 2017 [1]."])
def test_parse_dates_formats(text):
    assert parse_dates(text) == {dt.date(2017, 5, 17)}


def test_parse_dates_other_cases():
    assert parse_dates("March 11, 1999") == parse_dates("3/11/99") == {dt.date(1999, 3, 11)}
    assert parse_dates("1s t day of June, 2004.") == parse_dates("6/1/04") == {dt.date(2004, 6, 1)}
    assert parse_dates("19  DAY OF MAY , 2010") == {dt.date(2010, 5, 19)}
    assert parse_dates("from January 1, 2005 to December 31, 2009") == {dt.date(2005, 1, 1), dt.date(2009, 12, 31)}
    assert parse_dates("[]/[]/[]") == parse_dates("2/30/2020") == parse_dates("the parties may 30 days") == set()


def test_parse_durations():
    assert parse_durations("3 years") == parse_durations("36 months") == {(36.0, "months")}
    assert parse_durations("thirty (30) days") == parse_durations("30 days") == {(30.0, "days")}
    assert parse_durations("two (2) year(s) commencing on the Effective Date") == {(24.0, "months")}
    assert parse_durations("successive 1 year") == parse_durations("an additional year") == {(12.0, "months")}
    assert parse_durations("one (1) additional five year period") == {(60.0, "months")}
    assert parse_durations("a 5-year term") == {(60.0, "months")}
    assert parse_durations("forty-five calendar days") == {(45.0, "days")}
    assert parse_durations("one hundred twenty (120) days") == {(120.0, "days")}
    assert parse_durations("two weeks") == {(14.0, "days")}
    assert parse_durations("will renew automatically from year to year") == {(12.0, "months")}
    assert parse_durations("perpetual") == parse_durations("in perpetuity") == {PERPETUAL}
    assert parse_durations("until the last patent expires") == set()


def test_parse_amounts():
    assert parse_amounts("$1,000,000") == parse_amounts("1 million dollars") == parse_amounts("USD 1M") == {1e6}
    assert parse_amounts("a fee of $2.5 million and 500 units") == {2.5e6, 500.0}
    assert parse_amounts("no amount") == set()


def test_name_tokens_and_groups():
    parties = 'SMART RX SYSTEMS, INC. ("Company"); A3 DEVELOPMENT GROUP, LLC ("Distributor")'
    assert name_tokens(parties) == {"smart", "rx", "systems", "a3", "development", "group"}
    assert name_groups(parties) == [{"smart", "rx", "systems"}, {"a3", "development", "group"}]
    assert name_groups('Cargill, Incorporated ("Cargill"); Bioamber S.A.S ("Bioamber"); '
                       '(individually as "Party", collectively as "Parties")') == [{"cargill"}, {"bioamber"}]
    assert name_groups("the laws of the Province of British Columbia and the federal laws of Canada") == [
        {"british", "columbia"}, {"canada"}]
    assert name_tokens("the laws of the State of New York") == {"new", "york"}


def check(sample: Sample) -> float | None:
    return metrics.get("answer_check")(MetricEnv(BenchConfig())).score(sample)


def test_answer_check_yes_no():
    question = "Is there a requirement for insurance that must be maintained by one party?"
    yes = Sample(question, "Yes", "Yes, the Distributor must maintain liability insurance [1].", answered=True)
    assert check(yes) == 1.0
    assert yes.notes["answer_check"] == {"form": "yes_no", "reference": True, "answer": True}
    assert check(Sample(question, "No", "The contract does not contain an insurance clause.", True)) == 1.0
    assert check(Sample(question, "Yes", "No.", True)) == 0.0
    # a refusal counts as "No"
    assert check(Sample(question, "No", "The documents do not say.", answered=False)) == 1.0
    # a literal Yes/No reference makes it yes/no whatever the question
    assert check(Sample("What is the duration of any warranty?", "No", "No warranty is given.", True)) == 1.0


def test_answer_check_dates_durations_amounts():
    date = Sample("What is the date of the contract?", "5/17/17", "It is dated the 17th day of May, 2017.", True)
    assert check(date) == 1.0
    assert date.notes["answer_check"]["reference"] == ["2017-05-17"]
    assert check(Sample("What is the date of the contract?", "5/17/17", "May 17, 2018", True)) == 0.0
    renewal = "What is the renewal term after the initial term expires?"
    assert check(Sample(renewal, "3 years", "Successive thirty-six (36) month terms.", True)) == 1.0
    assert check(Sample(renewal, "3 years", "Two (2) years.", True)) == 0.0
    notice = Sample("What is the notice period required to terminate renewal?", "90 days", "ninety days", True)
    assert check(notice) == 1.0 and notice.notes["answer_check"]["answer"] == ["90 days"]
    json.dumps(notice.notes)  # the notes go into answers.jsonl
    assert check(Sample("What is the license fee?", "$1,000,000", "One fee of $1 million [2].", True)) == 1.0


def test_answer_check_names_and_places():
    question = "What is the two or more parties who signed the contract?"
    reference = 'SMART RX SYSTEMS, INC. ("Company"); A3 DEVELOPMENT GROUP, LLC ("Distributor")'
    assert check(Sample(question, reference, "Smart Rx Systems Inc. and A3 Development Group LLC", True)) == 1.0
    assert check(Sample(question, reference, "Smart Rx and the Distributor", True)) == 1.0  # half the parties
    assert check(Sample(question, reference, "The Company and the Distributor", True)) == 0.0
    law = "Which state's law governs the CURO servicing agreement?"
    assert check(Sample(law, "the laws of the State of New York", "New York law [1].", True)) == 1.0
    assert check(Sample(law, "Nevada", "the laws of the State of Delaware", True)) == 0.0


def test_answer_check_clauses_and_unparsed_references():
    question = "What is the name of the contract?"
    assert check(Sample(question, "EXCLUSIVE DISTRIBUTOR AGREEMENT", "The Exclusive Distributor Agreement.",
                        True)) == 1.0
    assert check(Sample(question, "EXCLUSIVE DISTRIBUTOR AGREEMENT", "A supply agreement", True)) == 0.0
    # a date question whose reference is no date is checked as a clause
    expiry = Sample("On what date will the contract's initial term expire?", "perpetual",
                    "The agreement is perpetual.", True)
    assert check(expiry) == 1.0 and expiry.notes["answer_check"]["checked_as"] == "clause"


def test_answer_check_against_a_label():
    # CUAD as the KDD 2024 tutorial scores it: the reference is the clause, the label CUAD's short answer
    question = "Is there a requirement for insurance that must be maintained by one party?"
    clause = "Distributor shall maintain product liability insurance of at least $1,000,000 per occurrence."
    assert check(Sample(question, clause, "Yes.", True, label="Yes")) == 1.0
    quoted = Sample(question, clause, f"{clause} [1]", True, label="Yes")  # a quote says no yes or no
    assert check(quoted) == 1.0 and quoted.notes["answer_check"]["reference_recall"] == 1.0
    assert check(Sample(question, clause, "No.", True, label="Yes")) == 0.0
    assert check(Sample(question, "No", "Yes, no party may ...", True, label="No")) == 0.0
    date = "What is the date of the contract?"
    assert check(Sample(date, "17t h day of May, 2017", "May 17, 2017", True, label="5/17/17")) == 1.0


def test_answer_check_unanswerable_and_missing_reference():
    assert check(Sample("Cake recipe?", "", "I cannot answer.", answered=False, unanswerable=True)) == 1.0
    assert check(Sample("Cake recipe?", "", "Flour and eggs.", answered=True, unanswerable=True)) == 0.0
    assert check(Sample("What is the date of the contract?", "", "May 17, 2017", True)) is None


def test_false_refusal_and_false_answer():
    def score(name: str, sample: Sample) -> float | None:
        return metrics.get(name)(MetricEnv(BenchConfig())).score(sample)

    answered, refused = Sample("q", "a", "a", answered=True), Sample("q", "a", "", answered=False)
    assert score("false_refusal", answered) == 0.0 and score("false_refusal", refused) == 1.0
    assert score("false_answer", answered) is None and score("false_answer", refused) is None
    cake_answered = Sample("Cake?", "", "Flour", answered=True, unanswerable=True)
    cake_refused = Sample("Cake?", "", "", answered=False, unanswerable=True)
    assert score("false_answer", cake_answered) == 1.0 and score("false_answer", cake_refused) == 0.0
    assert score("false_refusal", cake_answered) is None
