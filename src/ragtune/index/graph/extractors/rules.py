"""Rule-based extraction for contracts and similar documents: parties and their defined aliases
(``Acme Inc., a Delaware corporation ("Supplier")``), defined terms (``"X" means ...``), dates, money
amounts, durations and governing law. Fast, deterministic, no LLM: the default extractor."""

from __future__ import annotations

import re
from datetime import date

from ragtune.documents.models import Chunk
from ragtune.index.graph.extractors.base import Extractor, extractors
from ragtune.index.graph.schema import DOCUMENT, Entity, Extraction, Relation
from ragtune.text import GRAPH_SENTENCES, sentence_pattern

MONTHS = ("january february march april may june july august september october november december").split()
_MONTH = r"(January|February|March|April|May|June|July|August|September|October|November|December)"
_DATES = [
    (re.compile(rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b"), ("m", "d", "y")),
    (re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:day\s+of\s+)?{_MONTH},?\s+(\d{{4}})\b"), ("d", "m", "y")),
    (re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"), ("y", "n", "d")),
]
_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())} | {"thirty": 30, "forty": 40, "forty-five": 45, "fifty": 50,
                                                     "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_UNIT = r"(business\s+|calendar\s+|working\s+)?(days?|weeks?|months?|years?)\b"
_DURATION_PAREN = re.compile(r"\((\d{1,4})\)\s*-?\s*" + _UNIT, re.IGNORECASE)
_DURATION_PLAIN = re.compile(r"\b(\d{1,4}|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) +
                             r")[\s-]+" + _UNIT, re.IGNORECASE)
_MONEY = re.compile(r"(?:US\s?)?\$\s?\d[\d,]*(?:\.\d+)?(?:\s?(?:million|billion|thousand)\b)?"
                    r"|\b(?:USD|EUR|GBP|CAD)\s?\d[\d,]*(?:\.\d+)?(?:\s?(?:million|billion)\b)?")
_LAW = re.compile(r"(?i:(?:govern|constru|interpret|enforc)\w*[^.;]{0,80}?\blaws?\s+of\s+(?:the\s+)?"
                  r"(?:(?:State|Commonwealth|Province|Republic)\s+of\s+)?)([A-Z][A-Za-z]+(?:\s+[A-Z][A-Za-z]+){0,2})")
_INCORPORATED = re.compile(r"\b[Aa]n?\s+([A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)\s+(?i:corporation|limited liability "
                           r"company|limited partnership|general partnership|company|corp\.)")
_DEFINED = re.compile(r"[\"\u201c]([A-Z][^\"\u201d\n]{1,60})[\"\u201d]\s*(?:shall\s+)?(?:means?|has the meaning|"
                      r"shall have the meaning|refers? to|is defined)\b\s*:?\s*([^.;]{0,220})")
_ALIAS = re.compile(r"\(\s*(?:(?:hereinafter|herein)\s+(?:referred\s+to\s+as\s+|called\s+)?)?"
                    r"(?:the\s+|this\s+|each\s+a\s+)?[\"\u201c]([^\"\u201d\n]{1,50})[\"\u201d]\s*\)", re.IGNORECASE)
_ORG_SUFFIX = re.compile(r"(?:,?\s+(?:Inc|Incorporated|Corp|Corporation|Company|Co|LLC|L\.L\.C|Ltd|Limited|LLP|LP|"
                         r"L\.P|PLC|GmbH|AG|S\.A|SRL|S\.R\.L|N\.V|B\.V|Pty|INC|CORP|CORPORATION|COMPANY|LTD|LIMITED"
                         r")\.?)$", re.IGNORECASE)
_CONNECTOR = re.compile(r"^.*\b(?:between|among|and|by|is|are|that|hereby)\s+", re.DOTALL)
_DESCRIPTION = re.compile(r",?\s+(?:an?|the|having|located|with|whose|as|organi[sz]ed|incorporated|existing|doing|"
                          r"residing|acting|on behalf)\b")
_PROPER = re.compile(r"[A-Z0-9][\w.&'-]*(?:,?\s+(?:(?:of|and|&|de|la|du|der|von)\s+)?[A-Z0-9][\w.&'-]*)*")
_DBA = re.compile(r"\s+(?:d/?b/?a|doing business as)\s+", re.IGNORECASE)
_LEAD = re.compile(r"^(?:the|this|that|each|such|whereas|now|under|and|or|of|by|between)\b[\s,]*", re.IGNORECASE)
_ABBREVIATIONS = frozenset("inc corp ltd co no nr sec st ste ave blvd rd apt bl fl dept mr ms mrs dr jr sr vs etc u.s "
                           "e.g i.e art para cf".split())
_DOCUMENT_WORDS = re.compile(r"\b(?:agreement|contract|amendment|exhibit|schedule|annex|addendum)\b", re.IGNORECASE)


def sentences(text: str) -> list[tuple[int, str]]:
    """(offset, sentence) pairs; periods after abbreviations (Inc., Corp., No.) do not end a sentence."""
    out: list[tuple[int, str]] = []
    start = 0
    for m in sentence_pattern(GRAPH_SENTENCES).finditer(text):
        word = re.search(r"([A-Za-z.]+)$", text[start:m.start()])
        if m.group() == "." and word and (word.group(1).lower().strip(".") in _ABBREVIATIONS
                                          or re.fullmatch(r"(?:[A-Za-z]\.)*[A-Za-z]", word.group(1).strip("."))):
            continue
        out.append((start, text[start:m.end()]))
        start = m.end()
    out.append((start, text[start:]))
    return [(i + len(s) - len(s.lstrip()), s.strip()) for i, s in out if s.strip()]


def _iso(parts: dict[str, str]) -> str | None:
    try:
        month = int(parts["n"]) if "n" in parts else MONTHS.index(parts["m"].lower()) + 1
        return date(int(parts["y"]), month, int(parts["d"])).isoformat()
    except (ValueError, KeyError):
        return None


def find_dates(text: str) -> list[tuple[int, str, str]]:
    """(offset, ISO date, text as written)."""
    found: dict[int, tuple[int, str, str]] = {}
    for pattern, order in _DATES:
        for m in pattern.finditer(text):
            iso = _iso(dict(zip(order, m.groups(), strict=True)))
            if iso and not any(s <= m.start() < s + len(t) for s, _, t in found.values()):
                found[m.start()] = (m.start(), iso, m.group())
    return sorted(found.values())


def find_money(text: str) -> list[tuple[int, str]]:
    """(offset, amount normalised like "$12,000" or "USD 5 million")."""
    out = []
    for m in _MONEY.finditer(text):
        value = re.sub(r"\s+", " ", m.group()).replace("US $", "$").replace("US$", "$").replace("$ ", "$")
        if re.search(r"\d", value) and value.rstrip(",.") not in ("$0",):
            out.append((m.start(), value.rstrip(",.")))
    return out


def find_durations(text: str) -> list[tuple[int, str]]:
    """(offset, duration normalised like "30 days" or "1 year"): "thirty (30) days", "90 days", "three years"."""
    spans: list[tuple[int, int, str]] = []
    for pattern in (_DURATION_PAREN, _DURATION_PLAIN):
        for m in pattern.finditer(text):
            if any(s < m.end() and m.start() < e for s, e, _ in spans):
                continue
            raw = m.group(1).lower()
            n = int(raw) if raw.isdigit() else _NUMBER_WORDS[raw]
            kind = (m.group(2) or "").split()
            unit = m.group(3).lower().rstrip("s")
            label = " ".join([*kind, unit]).lower()
            spans.append((m.start(), m.end(), f"{n} {label}{'' if n == 1 else 's'}"))
    return sorted((s, v) for s, _, v in spans)


def find_governing_law(text: str) -> list[tuple[int, str]]:
    return [(m.start(), m.group(1).title() if m.group(1).isupper() else m.group(1)) for m in _LAW.finditer(text)]


def _label(sentence: str, rules: list[tuple[str, str]], default: str) -> str:
    low = sentence.lower()
    return next((label for pattern, label in rules if re.search(pattern, low)), default)


_DURATION_LABELS = [(r"confidential", "confidentiality"), (r"\b(?:initial|renewal)?\s*term of\b", "term"),
                    (r"terminat", "termination"), (r"renew", "renewal"),
                    (r"notice", "notice_period"), (r"\bterm\b", "term"), (r"\bpa(y|id)|invoice|fee", "payment_terms"),
                    (r"warrant", "warranty")]
_MONEY_LABELS = [(r"liabilit", "liability_cap"), (r"royalt", "royalty"),
                 (r"\bfees?\b|\bpa(y|id|yment)|price|invoice|compensat", "payment")]


def party_name(prefix: str) -> tuple[str, str]:
    """The name a ``("Alias")`` follows, and the description between them, from the text before it:
    ``... between Acme Widgets Inc., a Delaware corporation`` -> ("Acme Widgets Inc.", "a Delaware corporation")."""
    tail = re.split(r"[()\[\]:]|(?<=[a-z]{3}[.!?])\s+(?=[A-Z])|\n\s*\n", prefix)[-1]
    tail = _CONNECTOR.sub("", tail).strip(" ,\n\t")
    cut = _DESCRIPTION.search(tail)
    name, description = (tail[: cut.start()], tail[cut.start():].strip(" ,")) if cut else (tail, "")
    name = _LEAD.sub("", " ".join(name.split())).strip(" ,")
    return name, " ".join(description.split())


def _looks_like_name(name: str) -> bool:
    words = name.split()
    return (1 <= len(words) <= 8 and 2 <= len(name) <= 80 and (name[0].isupper() or name[0].isdigit()
                                                                 or ".com" in name.lower())
            and not _DOCUMENT_WORDS.search(name))


@extractors.register("rules")
class RuleExtractor(Extractor):
    """Regular expressions tuned on contracts. Relations hang off the document (``@document``): a party is
    ``party_to`` it with its role, it is ``governed_by`` a jurisdiction, ``defines`` its terms, has a
    ``term``/``notice_period``/``payment``... duration or amount with the sentence as evidence."""

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

        defined: set[str] = set()
        for m in _ALIAS.finditer(text):
            alias = " ".join(m.group(1).split())
            defined.add(alias)
            preceding = (before + text[: m.start()])[-600:]
            name, description = party_name(preceding[-400:])
            if not _looks_like_name(name) or name.lower() == alias.lower() or _DOCUMENT_WORDS.fullmatch(alias):
                continue
            name, dba = ([*_DBA.split(name, maxsplit=1), ""])[:2]
            sentence = sentence_at(m.start())
            individual = "individual" in description.lower()
            strong = individual or bool(_ORG_SUFFIX.search(name))
            party = re.search(r"\b(?:between|among|part(?:y|ies))\b", sentence, re.IGNORECASE) or (
                strong and re.search(r"\b(?:between|among)\b", preceding, re.IGNORECASE))
            if not (strong or (party and _PROPER.fullmatch(name))) or name in defined:
                entity(alias, "defined_term", f"{name}, {description}".strip(", "))  # accepted by IBM ("Order Forms")
                continue
            e = entity(name, "person" if individual else "organization", description)
            e.aliases.extend(a for a in (alias, dba) if a and a not in e.aliases)
            if party:
                relate(name, DOCUMENT, "party_to", sentence, role=alias)
            state = _INCORPORATED.search(description)
            if state:
                entity(state.group(1), "jurisdiction")
                relate(name, state.group(1), "incorporated_in", description)
        for m in _DEFINED.finditer(text):
            term = " ".join(m.group(1).split())
            if _DOCUMENT_WORDS.fullmatch(term):
                continue
            definition = m.group(2).strip()
            entity(term, "defined_term", definition)
            relate(DOCUMENT, term, "defines", f'"{term}" means {definition}')
        for offset, iso, written in find_dates(text):
            sentence = sentence_at(offset)
            entity(iso, "date", written)
            effective = re.search(r"effective|entered into|made\b|dated|as of", sentence, re.IGNORECASE)
            relate(DOCUMENT, iso, "effective_date" if effective else "date", sentence)
        for offset, amount in find_money(text):
            sentence = sentence_at(offset)
            entity(amount, "money")
            relate(DOCUMENT, amount, _label(sentence, _MONEY_LABELS, "amount"), sentence)
        for offset, duration in find_durations(text):
            sentence = sentence_at(offset)
            entity(duration, "duration")
            relate(DOCUMENT, duration, _label(sentence, _DURATION_LABELS, "duration"), sentence)
        for offset, place in find_governing_law(text):
            entity(place, "jurisdiction")
            relate(DOCUMENT, place, "governed_by", sentence_at(offset))
        return Extraction(entities=list(entities.values()), relations=relations)
