"""Answer strategies with the real shipped embedder and 135M model: extract (verbatim, cited, no LLM),
extract+generate (a short answer in the form the question asks for, the quote attached), and generate."""

import datetime as dt
import re
from types import SimpleNamespace

import pytest

from ragtune.errors import ConfigError
from ragtune.generation.answer_forms import parse_yes_no
from ragtune.index.store import StoredDocument
from ragtune.values import parse_dates, parse_durations

MARKED = re.compile(r"\s*(.+?) \[(\d{1,2})\]([.!?]?)")


def flat(text: str) -> str:
    return " ".join(text.split())


def test_extract_returns_verbatim_sentences_with_correct_citations(project):
    answer = project.ask("What paid vacation do employees receive?", strategy="extract")
    assert answer.answered and answer.strategy == "extract"
    parts = MARKED.findall(answer.answer)
    assert len(parts) == project.config.answer.sentences
    for sentence, n, end in parts:
        chunk = answer.chunks[int(n) - 1]
        assert flat(sentence + end) in flat(chunk["text"])  # verbatim (white space folded) from the cited passage
    cited = {c.chunk_id for c in answer.citations}
    assert cited == {answer.chunks[int(n) - 1]["chunk_id"] for _, n, _ in parts}
    assert "twenty-five (25) days of paid vacation" in answer.answer
    assert not any(s["kind"] == "generate" for s in answer.stages)  # no LLM call
    assert answer.usage == {"prompt_tokens": 0, "completion_tokens": 0}


def test_extract_reads_the_short_answer_by_rules(contracts_project):
    days = contracts_project.ask("How many days of paid vacation do employees receive?", strategy="extract")
    assert days.answer.startswith("25 days [1]. "), days.answer
    assert days.usage["prompt_tokens"] == 0


def test_questions_about_the_document_are_answered_from_its_opening(contracts_project):
    """Name, parties and date come from the document's opening, which document_head puts first; the answer is
    the value alone, cited to that passage."""
    parties = contracts_project.ask("Who are the parties to the Master Services Agreement?", strategy="extract")
    assert parties.answer == "Initech LLC and Umbrella Health Systems [1].", parties.answer
    head = next(s for s in parties.stages if s["stage"] == "document_head")
    assert head["details"]["added"] >= 1
    assert parties.chunks[0]["chunk_id"] in head["details"]["chunk_ids"]
    assert parties.citations[0].chunk_id == parties.chunks[0]["chunk_id"]
    assert "Initech LLC" in parties.chunks[0]["text"]
    date = contracts_project.ask("What is the date of the Master Services Agreement?", strategy="extract")
    assert parse_dates(date.answer) == {dt.date(2023, 3, 1)} and date.answer.endswith("[1]."), date.answer
    clause = contracts_project.ask("What does the confidentiality clause of the Master Services Agreement say?",
                         strategy="extract")
    assert not next(s for s in clause.stages if s["stage"] == "document_head")["details"]["added"]


def test_about_document_and_titles():
    from ragtune.packs.contracts.head import about_document, find_title

    assert about_document("What is the name of the contract?")
    assert about_document("Who are the parties to the servicing agreement?")
    assert about_document("On what date was the CURO servicing agreement entered into?")
    assert about_document("What is the date of the Master Services Agreement?")  # a named agreement
    assert not about_document("What is the date of the termination notice under the agreement?")
    assert not about_document("Is consent required if a party assigns the contract to a third party?")
    assert not about_document("Which state's law governs the endorsement agreement?")
    assert find_title("Exhibit 10.3\n\nSERVICING AGREEMENT\n\nbetween\n\nCURO") == "SERVICING AGREEMENT"
    assert find_title("EXHIBIT 10.3\n\nYield Maintenance Agreement\n[LOGO UBS]") == "Yield Maintenance Agreement"
    assert find_title("Exhibit 6.7 EXCLUSIVE DISTRIBUTOR AGREEMENT This Distributor Agreement (\"Agreement\") is "
                      "made") == "EXCLUSIVE DISTRIBUTOR AGREEMENT"
    assert find_title("Nothing here names it.") == ""


def test_extract_generate_answers_in_the_form_asked(contracts_project):
    date = contracts_project.ask("What is the date of the Master Services Agreement?", strategy="extract+generate")
    short = date.answer.split(". ", 1)[0]
    assert parse_dates(short) == {dt.date(2023, 3, 1)}, date.answer
    assert date.citations and "March 1, 2023" in date.answer  # the quote stays attached

    yes = contracts_project.ask("Does the Master Services Agreement guarantee network availability?",
                      strategy="extract+generate")
    assert parse_yes_no(yes.answer) is True, yes.answer
    assert yes.citations

    parties = contracts_project.ask("Who are the parties to the Master Services Agreement?",
                                    strategy="extract+generate")
    short = parties.answer.split(". ", 1)[0].lower()
    assert "initech" in short and "umbrella" in short, parties.answer
    assert parties.answer == "Initech LLC and Umbrella Health Systems [1].", parties.answer  # one marker, not split

    days = contracts_project.ask("How many days of paid vacation do employees receive?", strategy="extract+generate")
    assert (25, "days") in parse_durations(days.answer.split(". ", 1)[0]), days.answer
    generated = [s for s in days.stages if s["kind"] == "generate"]
    assert len(generated) == 1 and generated[0]["prompt_tokens"] < 400  # only the selected sentences


def test_clause_questions_need_no_llm_call(contracts_project):
    answer = contracts_project.ask("What does the confidentiality clause of the Master Services Agreement say?",
                         strategy="extract+generate")
    assert answer.answered and answer.usage["prompt_tokens"] == 0
    assert "Confidential Information" in answer.answer


def test_unknown_strategy_is_a_clear_error(project):
    with pytest.raises(ConfigError, match="answer strategy.*'summarise'.*extract"):
        project.ask("What are the working hours?", strategy="summarise")


def test_document_filter_asks_the_document_the_question_names(project):
    ctx = project.retrieve("Which law governs the supply agreement?", pipeline="document_filter+hybrid")
    assert {h.chunk.doc_source.rsplit("/", 1)[-1] for h in ctx.hits} == {"supply_agreement.md"}
    details = ctx.trace[0].details
    assert details["document"].endswith("supply_agreement.md") and "supply" not in details["focus"].lower()
    unnamed = project.retrieve("What is the boiling point of nitrogen?", pipeline="document_filter+hybrid")
    assert unnamed.trace[0].details["document"] is None


def test_document_filter_ignores_words_that_name_no_document():
    """A file named "... between SONY ELECTRONICS INC. and GSI TECHNOLOGY, INC." is the only one with "between",
    "and" and "inc" in its name; a question "between Anixa Biosciences, Inc. and OntoChem GmbH" still names
    the Anixa contract."""
    from ragtune.retrieval.pipeline import QueryContext
    from ragtune.retrieval.pre.document_filter import DocumentFilter, DocumentFilterConfig

    class Names:
        def documents(self):
            return {s: StoredDocument(s, "", "", 1) for s in (
                "GSITECHNOLOGYINC-IP AGREEMENT between SONY ELECTRONICS INC. and GSI TECHNOLOGY, INC..txt",
                "ANIXABIOSCIENCESINC-COLLABORATION AGREEMENT.txt", "BLUEFLYINC-e-business Hosting Agreement.txt")}

    ctx = QueryContext("Consider the Collaboration Agreement between Anixa Biosciences, Inc. and OntoChem GmbH; "
                       "What is the name of the contract?", top_k=5, fetch_k=5)
    details = DocumentFilter(DocumentFilterConfig(name="document_filter"), SimpleNamespace(store=Names())).run(ctx)
    assert details["document"].startswith("ANIXA"), details


def test_yes_no_verdict_thresholds_the_cosine_not_a_cross_encoders_score():
    from ragtune.generation.strategies.reader import verdict
    from ragtune.generation.strategies.selection import Sentence

    quoted = [Sentence("Neither party may assign this Agreement.", 1, 0, 40, score=0.2, similarity=0.61)]
    assert verdict(quoted, 0.53) == "Yes"  # a cross-encoder's 0.2 is on another scale than the pack's yes_threshold
    quoted[0].similarity = 0.4
    assert verdict(quoted, 0.53) == "No" and verdict(quoted, None) == ""
