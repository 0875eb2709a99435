"""Answer packs on documents of other domains, with the real embedder: the generic pack (the default) does not
misfire on a 10-K passage, a product manual or a paper abstract, where the contracts pack's rules do; and a pack
is a registered class with a typed config."""

import re
import shutil
from pathlib import Path

import pytest

from ragtune.errors import ConfigError
from ragtune.packs import AnswerPack, PackConfig, make_pack, packs
from ragtune.values import parse_amounts, parse_dates, parse_durations

DATA = Path(__file__).parent / "data" / "packs"
MARKED = re.compile(r"\s*(.+?) \[(\d{1,2})\]([.!?]?)")
COVER_DATES = {"December 31, 2022", "February 24, 2023"}


@pytest.fixture(scope="module")
def probes(tmp_path_factory):
    """(generic project, contracts project): the three documents ingested once, the second the same index under
    the contracts pack and its pipeline."""
    from ragtune.project import Project, with_domain

    root = tmp_path_factory.mktemp("packs")
    shutil.copytree(DATA, root / "docs")
    generic = Project.init(root / "p")
    generic.ingest([root / "docs"])
    contracts = Project(generic.root, config=with_domain(generic.config, "contracts"))
    yield generic, contracts
    contracts.close()
    generic.close()


def quoted_only(answer: str, sentences: int) -> bool:
    """The answer is the selected sentences, each cited, with no short answer or verdict before them."""
    parts = MARKED.findall(answer)
    return len(parts) == sentences and not re.match(r"(?:Yes|No)\b", answer)


def head_added(answer) -> int:
    return next(s for s in answer.stages if s["stage"] == "document_head")["details"]["added"]


def test_the_default_pack_is_generic_and_has_no_rule():
    pack = make_pack("generic")
    assert pack.form("Who are the parties to the agreement?") is None
    assert not pack.yes_no("Can you list the risk factors?")
    assert not pack.about_document("What is the effective date of the agreement?")
    assert pack.document_answer("What is the date?", "date", "Dated May 1, 2020") is None
    assert pack.prompt("extract_generate.system", "generic wording") == "generic wording"


def test_effective_date_of_a_standard_is_not_the_cover_date(probes):
    generic, contracts = probes
    question = "What is the effective date of the new revenue standard?"
    answer = generic.ask(question, strategy="extract")
    assert head_added(answer) == 0
    assert not any(answer.answer.startswith(d) for d in COVER_DATES), answer.answer
    assert "December 15, 2017" in answer.answer, answer.answer
    misfire = contracts.ask(question, strategy="extract")  # the contracts rule: "effective date" is the document's
    assert head_added(misfire) >= 1 and parse_dates(misfire.answer.split(" [", 1)[0]), misfire.answer


def test_can_questions_get_no_verdict(probes):
    generic, contracts = probes
    answer = generic.ask("Can you list the risk factors?", strategy="extract")
    assert quoted_only(answer.answer, generic.config.answer.sentences), answer.answer
    assert "risk factors" in answer.answer
    verdict = contracts.ask("Can you list the risk factors?", strategy="extract")
    assert re.match(r"(?:Yes|No)\b", verdict.answer), verdict.answer  # CUAD's "is there a clause" verdict


def test_who_questions_do_not_read_parties(probes):
    generic, contracts = probes
    answer = generic.ask("Who are the primary customers?", strategy="extract")
    assert head_added(answer) == 0
    assert quoted_only(answer.answer, generic.config.answer.sentences), answer.answer
    assert "automotive manufacturers" in answer.answer
    assert contracts.answer_pack.form("Who are the primary customers?") == "parties"
    assert head_added(contracts.ask("Who are the primary customers?", strategy="extract")) >= 1  # the cover page


def test_values_of_a_filing():
    assert parse_durations("we drew $300 million under a term loan with a group of banks") == set()
    assert parse_durations("a five-year term loan") == {(60.0, "months")}
    assert parse_amounts("Net revenue was 1,204 million in 2022") >= {1.204e9}
    assert parse_dates("5/17/2017") == parse_dates("May 17, 2017")


def test_term_loan_is_no_duration_question_under_generic(probes):
    generic, contracts = probes
    question = "What is the interest rate of the term loan?"
    answer = generic.ask(question, strategy="extract")
    assert quoted_only(answer.answer, generic.config.answer.sentences), answer.answer
    assert "SOFR plus 1.5%" in answer.answer
    assert contracts.answer_pack.form(question) == "duration"  # "term" is a contract's duration


@pytest.mark.parametrize("question, words", [
    ("How long should the battery charge before first use?", "at least 4 hours"),
    ("Is the blade assembly dishwasher safe?", "dishwasher safe"),
    ("What do the authors show about sparse lexical retrieval with BM25?", "ten times less memory"),
    ("When was the warranty date of purchase?", "two years from the date of purchase"),
])
def test_manual_and_abstract_questions_are_answered_by_quotes(probes, question, words):
    generic, _ = probes
    answer = generic.ask(question, strategy="extract")
    assert head_added(answer) == 0
    assert quoted_only(answer.answer, generic.config.answer.sentences), answer.answer
    assert words in answer.answer, answer.answer


def test_extract_generate_makes_no_llm_call_without_a_form(probes):
    generic, _ = probes
    answer = generic.ask("How long should the battery charge before first use?", strategy="extract+generate")
    assert answer.usage["prompt_tokens"] == 0 and "at least 4 hours" in answer.answer


def test_a_pack_is_a_registered_class_with_a_typed_config():
    class GlossaryConfig(PackConfig):
        marker: str = "means"

    @packs.register("glossary-test")
    class Glossary(AnswerPack):
        Config = GlossaryConfig

        def form(self, question):
            return "definition" if question.lower().startswith("what does") else None

        def read(self, question, form, text):
            return [text.split(self.config.marker, 1)[1].strip(" .")] if self.config.marker in text else []

    pack = make_pack("glossary-test", {"marker": "means"})
    assert pack.name == "glossary-test" and pack.read("What does SOFR mean?", "definition",
                                                      "SOFR means the secured overnight financing rate.") == [
        "the secured overnight financing rate"]
    with pytest.raises(ConfigError, match="pack_options of pack 'glossary-test'"):
        make_pack("glossary-test", {"marker": 3, "other": 1})
    with pytest.raises(ConfigError, match="unknown answer pack 'nope'.*contracts, finance, generic"):
        make_pack("nope")


def test_a_pack_names_the_graph_extractor_of_its_rules():
    from ragtune.project import ProjectConfig, with_domain

    default = ProjectConfig()
    assert default.index.graph.extractor == "rules"  # the generic rules: no domain rule
    assert with_domain(default, "contracts").index.graph.extractor == "contracts"
    assert with_domain(default, "finance").index.graph.extractor == "rules"  # the pack names none
    assert default.index.graph.extractor == "rules"  # the config given is not changed
