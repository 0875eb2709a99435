"""Document-head retrieval: a question about a document as a whole (its name, its parties, the date it was made
or takes effect) is answered by the document's opening lines, which similarity search seldom ranks high (they
share few words with "Who are the parties?"). For such questions this stage puts the opening chunks of the
top document first."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field

from ragtune.retrieval.hybrid import Hit
from ragtune.retrieval.pipeline import Component, ComponentConfig, QueryContext, components
from ragtune.text import YES_NO_QUESTION

_DOC = r"(?:contract|agreement|document|lease|licen[cs]e)"
# "the agreement", "the Master Services Agreement"; not "the notice under the agreement"
_THE_DOC = rf"(?:the|this)(?: (?!(?:the|a|an|of|under|in|to|for|by|with|and|or)\b)[\w&-]+){{0,4}} {_DOC}"
ABOUT_DOCUMENT = re.compile(
    rf"\b(?:name|title) of {_THE_DOC}\b|\bwhat is (?:the|this) {_DOC} called\b"
    rf"|\bwho are the parties\b|\bparties (?:to|of) {_THE_DOC}\b|\bparties who signed\b|\bsignator(?:y|ies)\b"
    rf"|\bwho (?:signed|entered into|are the)\b|\bdate of {_THE_DOC}\b"
    rf"|\b{_DOC} (?:is |was )?(?:dated|signed|executed|entered into|made)\b|\beffective date\b"
    rf"|\b(?:date|when)\b.*\b{_DOC} (?:is|was|becomes?|become|takes?) effective\b"
    rf"|\bwhen (?:is|was|does|did) (?:the|this) {_DOC} (?:dated|signed|made|start|begin|take effect)\b")


HEAD_CHARS = 1500
"""A document's opening: the chunks that start within this many characters of its beginning."""


def about_document(question: str) -> bool:
    """Whether ``question`` asks for the document's own name, parties or date (its opening states them); a
    yes/no question asks about a clause."""
    q = " ".join(question.lower().split())
    return not YES_NO_QUESTION.match(q) and bool(ABOUT_DOCUMENT.search(q))


class DocumentHeadConfig(ComponentConfig):
    documents: int = Field(1, ge=1, description="The top documents (by their best hit) whose opening is put "
                                                "first.")
    when: Literal["auto", "always"] = Field("auto", description="auto: only for questions about a document's "
                                            "name, parties or date; always: for every question.")


@components.register("document_head")
class DocumentHead(Component):
    """Moves (or adds) the opening chunks (``HEAD_CHARS``) of each of the ``documents`` best-ranked documents to
    the top of the hits, when the question is about the document itself (``when: auto``)."""

    kind = "post"
    Config = DocumentHeadConfig

    def run(self, ctx: QueryContext) -> dict[str, Any]:
        if self.config.when == "auto" and not about_document(ctx.question):
            return {"added": 0, "reason": "not a question about the document itself"}
        sources = list(dict.fromkeys(h.chunk.doc_source for h in ctx.hits))[: self.config.documents]
        top = ctx.hits[0].score if ctx.hits else 1.0
        heads = [Hit(chunk, top) for s in sources for chunk in self.resources.store.head(s, HEAD_CHARS)]
        ids = {h.chunk.id for h in heads}
        ctx.hits = heads + [h for h in ctx.hits if h.chunk.id not in ids]
        return {"added": len(heads), "chunk_ids": sorted(ids)}
