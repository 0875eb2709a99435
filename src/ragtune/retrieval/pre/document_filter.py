"""Self-querying by document name: when the question names one document ("the endorsement agreement", "the
Bluefly hosting agreement"), retrieval is restricted to it, so passages of look-alike documents (every contract
has a governing-law clause) cannot crowd it out. No LLM: the question's words are matched against each
document's title and file name, weighted by how few documents share them; words that name no document in
particular (stopwords such as "between", company forms such as "Inc.") are left out."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import PurePath
from typing import Any

from pydantic import Field

from ragtune.index.store import glob_escape
from ragtune.retrieval.pipeline import Component, ComponentConfig, QueryContext, components

_TOKEN = re.compile(r"[a-z0-9]+")
# legal forms of a company: "between Acme, Inc. and Beta LLC" names no document by its "inc"
COMPANY_FORMS = frozenset("inc incorporated llc ltd limited corp corporation co company plc lp llp gmbh ag sa bv nv "
                          "pty srl spa".split())


@lru_cache(maxsize=1)
def generic_words() -> frozenset[str]:
    """Words that never name a document: English stopwords (bm25s' extended list) and company forms."""
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    return frozenset(STOPWORDS_EN_PLUS) | COMPANY_FORMS


class DocumentFilterConfig(ComponentConfig):
    min_prefix: int = Field(4, ge=2, description="A question word matches a name token it begins "
                                                 "(\"bluefly\" ~ \"blueflyinc\") when it is at least this long.")
    min_share: float = Field(0.35, ge=0, le=1, description="The least share of a document's name (by the weights "
                             "of its words) the question must match to narrow retrieval to it: one common word "
                             "(\"license\", \"business\") names no document (bench/document_filter.py).")


def name_tokens(source: str, title: str) -> set[str]:
    return set(_TOKEN.findall(f"{PurePath(source).stem} {title}".lower()))


def name_weight(tokens: set[str], names: Iterable[set[str]], generic: frozenset[str]) -> float:
    """The weight of a whole name: what a question matching every one of its ``tokens`` scores."""
    names = list(names)
    total = 0.0
    for t in tokens:
        df = sum(t in other for other in names)
        if len(t) >= 3 and not t.isdigit() and t not in generic and df < len(names):
            total += math.log(len(names) / df)
    return total or math.inf


@components.register("document_filter")
class DocumentFilter(Component):
    """Sets ``source`` to the one document whose name the question matches best (each matched word of three
    letters or more weighs log(N / documents whose name has it): words in every name weigh nothing); leaves the
    question alone when filters are already given, when no word matches, when two documents tie, or when the
    words matched are less than ``min_share`` of the document's name."""

    kind = "pre"
    Config = DocumentFilterConfig

    def matches(self, word: str, tokens: set[str]) -> bool:
        return word in tokens or (len(word) >= self.config.min_prefix and any(t.startswith(word) for t in tokens))

    def run(self, ctx: QueryContext) -> dict[str, Any]:
        if ctx.filters:
            return {"document": None, "reason": "filters given"}
        docs = {d.source: name_tokens(d.source, d.title) for d in self.resources.store.documents().values()}
        generic = generic_words()
        words = {w for w in _TOKEN.findall(ctx.question.lower())
                 if len(w) >= 3 and not w.isdigit() and w not in generic}
        scores: dict[str, float] = {}
        naming: dict[str, set[str]] = {}
        for w in words:
            sources = [s for s, tokens in docs.items() if self.matches(w, tokens)]
            if sources and len(sources) < len(docs):
                for s in sources:
                    scores[s] = scores.get(s, 0.0) + math.log(len(docs) / len(sources))
                    naming.setdefault(s, set()).add(w)
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
        if not ranked or (len(ranked) > 1 and ranked[1][1] == ranked[0][1]):
            return {"document": None, "reason": "no single document named"}
        source = ranked[0][0]
        share = min(1.0, ranked[0][1] / name_weight(docs[source], docs.values(), generic))
        if share < self.config.min_share:
            return {"document": None, "reason": "too little of a name matched", "share": round(share, 3)}
        ctx.filters = {"source": glob_escape(source)}
        # inside the document its name tells nothing: search (and pick sentences) for the rest of the question
        focus = " ".join(re.sub(rf"\b(?:{'|'.join(map(re.escape, naming[source]))})\b", " ", ctx.question,
                                flags=re.IGNORECASE).split())
        ctx.focus = focus
        ctx.queries = [focus if q == ctx.question else q for q in ctx.queries]
        return {"document": source, "score": round(ranked[0][1], 3), "share": round(share, 3), "focus": focus}
