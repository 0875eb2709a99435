"""Contract rules that find values and names in text: parties and their defined aliases
(``Acme Inc., a Delaware corporation ("Supplier")``), defined terms (``"X" means ...``), dates, money amounts,
durations and governing law. The pack's reader and the knowledge graph's rule extractor both use them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ragtune.text import GRAPH_SENTENCES, sentence_pattern
from ragtune.values import date_spans

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


def find_dates(text: str) -> list[tuple[int, str, str]]:
    """(offset, ISO date, text as written) of every date of the shared value grammar (``ragtune.values``)."""
    return [(start, day.isoformat(), text[start:end]) for start, end, day in date_spans(text)]


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


def label(sentence: str, rules: list[tuple[str, str]], default: str) -> str:
    low = sentence.lower()
    return next((label for pattern, label in rules if re.search(pattern, low)), default)


DURATION_LABELS = [(r"confidential", "confidentiality"), (r"\b(?:initial|renewal)?\s*term of\b", "term"),
                    (r"terminat", "termination"), (r"renew", "renewal"),
                    (r"notice", "notice_period"), (r"\bterm\b", "term"), (r"\bpa(y|id)|invoice|fee", "payment_terms"),
                    (r"warrant", "warranty")]
MONEY_LABELS = [(r"liabilit", "liability_cap"), (r"royalt", "royalty"),
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


@dataclass
class Name:
    """A name a ``("Alias")`` defines: a party or another organization or person (``kind`` "organization" or
    "person", with its ``aliases``, ``party`` when the sentence makes it one, the ``state`` it is incorporated
    in; ``role``: the alias), or a defined term (``kind`` "defined_term", ``name`` the alias)."""

    name: str
    kind: str
    description: str
    sentence: str = ""
    aliases: tuple[str, ...] = ()
    role: str = ""
    party: bool = False
    state: str | None = None


def defined_names(text: str, before: str = "") -> list[Name]:
    """Every ``("Alias")`` of ``text`` with the name it follows (``before``: the text preceding ``text``), in
    order of appearance."""
    spans = sentences(text)
    out: list[Name] = []
    defined: set[str] = set()
    for m in _ALIAS.finditer(text):
        alias = " ".join(m.group(1).split())
        defined.add(alias)
        preceding = (before + text[: m.start()])[-600:]
        name, description = party_name(preceding[-400:])
        if not _looks_like_name(name) or name.lower() == alias.lower() or _DOCUMENT_WORDS.fullmatch(alias):
            continue
        name, dba = ([*_DBA.split(name, maxsplit=1), ""])[:2]
        sentence = next((s for i, s in reversed(spans) if i <= m.start()), text[:240])
        individual = "individual" in description.lower()
        strong = individual or bool(_ORG_SUFFIX.search(name))
        party = re.search(r"\b(?:between|among|part(?:y|ies))\b", sentence, re.IGNORECASE) or (
            strong and re.search(r"\b(?:between|among)\b", preceding, re.IGNORECASE))
        if not (strong or (party and _PROPER.fullmatch(name))) or name in defined:
            out.append(Name(alias, "defined_term", f"{name}, {description}".strip(", ")))
            continue
        state = _INCORPORATED.search(description)
        out.append(Name(name, "person" if individual else "organization", description, sentence,
                        tuple(a for a in (alias, dba) if a), alias, bool(party), state.group(1) if state else None))
    return out


def definitions(text: str) -> list[tuple[str, str]]:
    """(term, definition) of every ``"X" means ...`` in ``text``."""
    out = []
    for m in _DEFINED.finditer(text):
        term = " ".join(m.group(1).split())
        if not _DOCUMENT_WORDS.fullmatch(term):
            out.append((term, m.group(2).strip()))
    return out


def parties(text: str) -> list[str]:
    """Names introduced as parties (``between Acme Inc. ("Seller") and ...``), in order of appearance."""
    return list(dict.fromkeys(n.name for n in defined_names(text) if n.party))


def is_effective(sentence: str) -> bool:
    """Whether a sentence with a date says the document takes effect or was made then."""
    return bool(re.search(r"effective|entered into|made\b|dated|as of", sentence, re.IGNORECASE))
