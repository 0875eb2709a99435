"""The tokens of party and place names, as a contract writes them: defined terms, corporate suffixes and
governing-law wording are not part of a name (the correctness metric compares names by these tokens)."""

from __future__ import annotations

import re

_DEFINED_TERMS = re.compile(r"\([^()]*\)|\"[^\"\n]{0,60}\"")
_NAME_SEPARATORS = re.compile(r"[;,\n]|\band\b", re.IGNORECASE)
_NAME_STOP_WORDS = frozenset(
    # corporate suffixes
    "inc incorporated llc ltd limited corp corporation co company plc gmbh ag sa sas srl spa bv nv lp llp pty "
    "pte kk com "
    # articles, prepositions and defined-term wording
    "the an of and or for on by in to as at with dba behalf party parties individually collectively each "
    "together referred hereinafter "
    # governing-law wording ("the laws of the State of New York")
    "law laws state province commonwealth federal substantive internal governed governing construed "
    "accordance applicable therein thereof".split())


def _without_defined_terms(text: str) -> str:
    return _DEFINED_TERMS.sub(" ", text.replace("\u201c", '"').replace("\u201d", '"'))


def name_tokens(text: str) -> set[str]:
    """The content tokens of party or place names, lower-cased, without defined terms in parentheses or
    quotes, corporate suffixes (Inc, LLC, Ltd, Corp ...), governing-law wording and one-letter tokens:
    'SMART RX SYSTEMS, INC. ("Company")' gives {"smart", "rx", "systems"}."""
    words = re.findall(r"[a-z0-9]+", _without_defined_terms(text).lower())
    return {w for w in words if len(w) > 1 and w not in _NAME_STOP_WORDS}


def name_groups(text: str) -> list[set[str]]:
    """The ``name_tokens`` of each name in a list of names separated by ';', ',', 'and' or new lines
    (the parties of a contract, or "British Columbia, Canada"); names without tokens are left out."""
    groups: list[set[str]] = []
    for part in _NAME_SEPARATORS.split(_without_defined_terms(text)):
        tokens = name_tokens(part)
        if tokens and tokens not in groups:
            groups.append(tokens)
    return groups
