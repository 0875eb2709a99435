"""Rule-based extraction with no domain rule, the default extractor: the calendar dates and the money amounts of
the shared value grammar (``ragtune.values``) and the organisation names that end in a company suffix ("Acme
Widgets Corp."), each a ``mentions`` relation of the document with its sentence as evidence. Fast, deterministic,
no LLM. A domain's rules (a contract's parties, governing law) come with its answer pack's extractor
(``AnswerPack.graph_extractor``: the ``contracts`` extractor)."""

from __future__ import annotations

import re
from itertools import pairwise

from ragtune.documents.models import Chunk
from ragtune.index.graph.extractors.base import Extractor, extractors
from ragtune.index.graph.schema import COMPANY_SUFFIXES, DOCUMENT, Entity, Extraction, Relation
from ragtune.text import GRAPH_SENTENCES, sentence_cuts
from ragtune.values import amounts, date_spans

_NAME_WORD = r"[A-Z][A-Za-z0-9&'-]*"
_NOT_A_NAME = "The|This|That|These|Those|Our|Its|Their|Each|Such|Any|An?|In|On|At|By|For|From|With|Under|As"
_ORGANIZATION = re.compile(
    rf"\b(?!(?:{_NOT_A_NAME})\b){_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{0,4}},?[ \t]+"
    rf"(?=[A-Z])(?i:{'|'.join(sorted(COMPANY_SUFFIXES, key=len, reverse=True))})(?![\w-])\.?")
"""Up to five capitalised words and a capitalised company suffix ("Initrode Ltd.", "ACME WIDGETS CORP."); not
"The Company"."""


def _sentences(text: str) -> list[tuple[int, str]]:
    """(offset, sentence) of each sentence of ``text`` by the graph's rule (``GRAPH_SENTENCES``), its end mark kept."""
    bounds = [0, *(end for _, end in sentence_cuts(text, GRAPH_SENTENCES)), len(text)]
    return [(a, text[a:b].strip()) for a, b in pairwise(bounds) if text[a:b].strip()]


@extractors.register("rules")
class RuleExtractor(Extractor):
    """Dates (ISO, written form as description), money amounts (written with a currency: "$1,204 million") and
    organisations, each ``mentions``-ed by the document (``@document``). No relation says what a value is: that
    takes a domain's rules."""

    def extract(self, chunk: Chunk, before: str = "") -> Extraction:
        self.cost.chunks += 1
        text = chunk.text
        spans = _sentences(text)

        def sentence_at(offset: int) -> str:
            return next((s for i, s in reversed(spans) if i <= offset), text[:240])

        found: list[tuple[int, Entity]] = [
            (start, Entity(name=day.isoformat(), type="date", description=text[start:end]))
            for start, end, day in date_spans(text)]
        found += [(a.start, Entity(name=" ".join(text[a.start:a.end].split()).strip("()"), type="money"))
                  for a in amounts(text, parentheses_negative=False) if a.currency]
        found += [(m.start(), Entity(name=m.group(), type="organization")) for m in _ORGANIZATION.finditer(text)]
        entities: dict[tuple[str, str], Entity] = {}
        for _, e in found:
            entities.setdefault((e.name, e.type), e)
        relations = [Relation(source=DOCUMENT, target=e.name, type="mentions", evidence=sentence_at(start)[:400])
                     for start, e in sorted(found, key=lambda f: f[0])]
        return Extraction(entities=list(entities.values()), relations=relations)
