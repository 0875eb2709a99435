"""What an extractor returns for one chunk: entities and relations, as a pydantic schema that also
validates (and, item by item, cleans) LLM output."""

from __future__ import annotations

import re
import unicodedata

from pydantic import BaseModel, ConfigDict, Field, field_validator

DOCUMENT = "@document"
"""Relation endpoint meaning "the document this chunk belongs to" (document-level facts: a date it mentions, a
contract's governing law)."""

ENTITY_TYPES = ("organization", "person", "defined_term", "date", "money", "duration", "jurisdiction", "other")
_TYPE_SYNONYMS = {"company": "organization", "org": "organization", "party": "organization",
                  "corporation": "organization", "organisation": "organization", "people": "person",
                  "individual": "person", "term": "defined_term", "definition": "defined_term",
                  "amount": "money", "price": "money", "fee": "money", "period": "duration", "time": "duration",
                  "location": "jurisdiction", "state": "jurisdiction", "country": "jurisdiction", "law": "jurisdiction",
                  "place": "jurisdiction"}
COMPANY_SUFFIXES = frozenset("inc incorporated corp corporation co company llc ltd limited llp lp plc gmbh ag sa srl "
                             "nv bv pty".split())
"""The words a company name may end in ("Inc", "Ltd", "GmbH"), lower-cased and without periods."""


class Entity(BaseModel):
    """A named thing in the passage."""

    model_config = ConfigDict(extra="ignore")
    name: str = Field(min_length=2, max_length=120)
    type: str = "other"
    description: str = Field("", max_length=400)
    aliases: list[str] = Field(default_factory=list)

    @field_validator("name", "description", mode="before")
    @classmethod
    def _strip(cls, v):
        return " ".join(str(v).split()) if v is not None else ""

    @field_validator("type", mode="before")
    @classmethod
    def _known_type(cls, v) -> str:
        t = re.sub(r"[^a-z_]", "", str(v or "").lower().replace(" ", "_"))
        t = _TYPE_SYNONYMS.get(t, t)
        return t if t in ENTITY_TYPES else "other"


class Relation(BaseModel):
    """``source`` -[type]-> ``target``; endpoints are entity names (or ``@document``)."""

    model_config = ConfigDict(extra="ignore")
    source: str = Field(min_length=2, max_length=120)
    target: str = Field(min_length=2, max_length=120)
    type: str = Field("related_to", min_length=2, max_length=40)
    evidence: str = Field("", max_length=400)
    role: str | None = None

    @field_validator("type", mode="before")
    @classmethod
    def _snake(cls, v) -> str:
        return re.sub(r"[^a-z0-9]+", "_", str(v or "related_to").lower()).strip("_") or "related_to"


class Extraction(BaseModel):
    """The JSON an extractor produces for one chunk."""

    entities: list[Entity] = Field(default_factory=list)
    relations: list[Relation] = Field(default_factory=list)


def name_key(name: str) -> str:
    """A normalised name for matching: case, accents, punctuation and company suffixes removed
    ("GLOBEX CORP." and "Globex Corporation" -> "globex")."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower().replace("&", " and ")
    words = re.sub(r"[^a-z0-9 ]+", "", re.sub(r"[-/]", " ", text)).split()
    if words and words[0] == "the":
        words = words[1:]
    while len(words) > 1 and words[-1] in COMPANY_SUFFIXES:
        words.pop()
    return " ".join(words)
