"""``ContractsPack``: the contract rules behind the answer-pack hooks, measured on cuad_dev
(docs/benchmarking.md: developed on 10 of its contracts, reported on the other 5)."""

from __future__ import annotations

import re

from pydantic import Field

from ragtune.packs.base import AnswerPack, PackConfig
from ragtune.packs.contracts.forms import AMOUNT, DATE, DURATION, PARTIES, PLACE, TITLE, detect_form, normal
from ragtune.packs.contracts.head import about_document, read_head
from ragtune.packs.contracts.rules import find_dates, find_durations, find_governing_law, find_money, parties
from ragtune.packs.registry import packs
from ragtune.text import YES_NO_QUESTION
from ragtune.values import parse_amounts, parse_dates, parse_durations

_TERM_WORDS = re.compile(r"\b(?:commenc|expir|terminat|effective|until|renew|continu|remain in (?:full )?force)",
                         re.IGNORECASE)
_LAW_WORDS = re.compile(r"\blaws? of\b|\bgoverned by\b|\bgoverning law\b", re.IGNORECASE)
_PARTY_WORDS = re.compile(r"\bbetween\b.+\band\b", re.IGNORECASE | re.DOTALL)

PROMPTS = {
    "extract_generate.system": "You answer a question about a contract from the numbered sentences quoted from "
                               "it. Reply with the answer only, as briefly as possible, using the sentences' own "
                               "words.",
    f"extract_generate.{DATE}": "Reply with the date only.",
    f"extract_generate.{PARTIES}": "Reply with the names of the parties only.",
    f"extract_generate.{DURATION}": "Reply with the length of time only, for example: 3 years.",
    f"extract_generate.{AMOUNT}": "Reply with the amount only.",
    f"extract_generate.{PLACE}": "Reply with the name of the state or country only.",
    f"extract_generate.{TITLE}": "Reply with the name of the document only.",
    "compare.question": "What are the {aspect} provisions of this agreement?",
}


class ContractsConfig(PackConfig):
    yes_threshold: float | None = Field(
        0.53, description="Yes/no questions (\"Is there a non-compete clause?\"): Yes when a quoted sentence's "
        "embedder cosine to the question is at least this, else No (calibrated on CUAD's training contracts, "
        "docs/benchmarking.md); None: extract+generate asks the LLM, extract quotes without a verdict.")


@packs.register("contracts")
class ContractsPack(AnswerPack):
    """Contracts: the parties, the governing law's place, agreement and effective dates, terms and notice
    periods, amounts, the document's name; "is there a clause" Yes/No by the quoted sentences' cosine; questions
    about the agreement itself answered from its opening."""

    Config = ContractsConfig
    pipeline = "document_filter+hybrid+document_head"
    graph_extractor = "contracts"

    def form(self, question: str) -> str | None:
        return detect_form(question)

    def states_form(self, form: str, text: str) -> bool:
        """A date, a length of time or what starts and ends a term, an amount, a governing-law phrase, a
        "between ... and ..."."""
        if form == DATE:
            return bool(parse_dates(text))
        if form == DURATION:
            return bool(parse_durations(text)) or bool(_TERM_WORDS.search(text))
        if form == AMOUNT:
            return bool(parse_amounts(text))
        if form == PLACE:
            return bool(_LAW_WORDS.search(text))
        if form == PARTIES:
            return bool(_PARTY_WORDS.search(text))
        return False

    def read(self, question: str, form: str, text: str) -> list[str]:
        if form == DATE:
            return [written for _, _, written in find_dates(text)]
        if form == PLACE:
            return [place for _, place in find_governing_law(text)]
        if form == DURATION:
            return [d for _, d in find_durations(text)]
        if form == AMOUNT:
            return [m for _, m in find_money(text)]
        if form == PARTIES:
            names = parties(text)
            return [" and ".join(names)] if len(names) >= 2 else []
        return []

    def yes_no(self, question: str) -> bool:
        return bool(YES_NO_QUESTION.match(normal(question)))

    def about_document(self, question: str) -> bool:
        return about_document(question)

    def document_answer(self, question: str, form: str, head: str) -> tuple[int, str] | None:
        return read_head(form, head, self.config.head_chars)

    def prompt(self, key: str, default: str) -> str:
        return PROMPTS.get(key, default)

