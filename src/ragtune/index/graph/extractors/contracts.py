"""Rule-based extraction with the contracts pack's rules (``ragtune.packs.contracts.rules``): parties and their
defined aliases, defined terms, dates, money amounts, durations and governing law. Fast, deterministic, no LLM:
the extractor of the ``contracts`` pack (``AnswerPack.graph_extractor``)."""

from __future__ import annotations

from ragtune.documents.models import Chunk
from ragtune.index.graph.extractors.base import Extractor, extractors
from ragtune.index.graph.schema import DOCUMENT, Entity, Extraction, Relation
from ragtune.packs.contracts.rules import (
    DURATION_LABELS,
    MONEY_LABELS,
    defined_names,
    definitions,
    find_dates,
    find_durations,
    find_governing_law,
    find_money,
    is_effective,
    label,
    sentences,
)


@extractors.register("contracts")
class ContractExtractor(Extractor):
    """Regular expressions tuned on contracts. Relations hang off the document (``@document``): a party is
    ``party_to`` it with its role, it is ``governed_by`` a jurisdiction, ``defines`` its terms, has a
    ``term``/``notice_period``/``payment``... duration or amount with the sentence as evidence."""

    name_relations = frozenset({"defines", "party_to", "incorporated_in"})

    def extract(self, chunk: Chunk, before: str = "") -> Extraction:
        self.cost.chunks += 1
        text = chunk.text
        entities: dict[tuple[str, str], Entity] = {}
        relations: list[Relation] = []

        def entity(name: str, type_: str, description: str = "") -> Entity:
            key = (name, type_)
            if key not in entities:
                entities[key] = Entity(name=name, type=type_, description=description[:400])
            return entities[key]

        def relate(source: str, target: str, type_: str, evidence: str, role: str | None = None) -> None:
            relations.append(Relation(source=source, target=target, type=type_, evidence=evidence[:400], role=role))

        spans = sentences(text)

        def sentence_at(offset: int) -> str:
            return next((s for i, s in reversed(spans) if i <= offset), text[:240])

        for found in defined_names(text, before):
            e = entity(found.name, found.kind, found.description)
            if found.kind == "defined_term":
                continue
            e.aliases.extend(a for a in found.aliases if a not in e.aliases)
            if found.party:
                relate(found.name, DOCUMENT, "party_to", found.sentence, role=found.role)
            if found.state:
                entity(found.state, "jurisdiction")
                relate(found.name, found.state, "incorporated_in", found.description)
        for term, definition in definitions(text):
            entity(term, "defined_term", definition)
            relate(DOCUMENT, term, "defines", f'"{term}" means {definition}')
        for offset, iso, written in find_dates(text):
            sentence = sentence_at(offset)
            entity(iso, "date", written)
            relate(DOCUMENT, iso, "effective_date" if is_effective(sentence) else "date", sentence)
        for offset, amount in find_money(text):
            sentence = sentence_at(offset)
            entity(amount, "money")
            relate(DOCUMENT, amount, label(sentence, MONEY_LABELS, "amount"), sentence)
        for offset, duration in find_durations(text):
            sentence = sentence_at(offset)
            entity(duration, "duration")
            relate(DOCUMENT, duration, label(sentence, DURATION_LABELS, "duration"), sentence)
        for offset, place in find_governing_law(text):
            entity(place, "jurisdiction")
            relate(DOCUMENT, place, "governed_by", sentence_at(offset))
        return Extraction(entities=list(entities.values()), relations=relations)
