"""Document-head retrieval: a question about a document as a whole (the answer pack's ``about_document``; the
contracts pack: its name, who signed it, the date it was made) is answered by the document's opening
lines, which similarity search seldom ranks high. For such questions this stage puts the opening chunks (the
pack's ``head_chars``) of the top document first. The generic pack has no such question: the stage then does
nothing unless ``when: always``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ragtune.retrieval.hybrid import Hit
from ragtune.retrieval.pipeline import Component, ComponentConfig, QueryContext, components


class DocumentHeadConfig(ComponentConfig):
    documents: int = Field(1, ge=1, description="The top documents (by their best hit) whose opening is put "
                                                "first.")
    when: Literal["auto", "always"] = Field("auto", description="auto: only for questions about the document "
                                            "itself (answer.pack's about_document); always: for every question.")


@components.register("document_head")
class DocumentHead(Component):
    """Moves (or adds) the opening chunks (the pack's ``head_chars``) of each of the ``documents`` best-ranked
    documents to the top of the hits, when the question is about the document itself (``when: auto``)."""

    kind = "post"
    Config = DocumentHeadConfig

    def run(self, ctx: QueryContext) -> dict[str, Any]:
        pack = self.resources.pack
        if self.config.when == "auto" and not pack.about_document(ctx.question):
            return {"added": 0, "reason": "not a question about the document itself"}
        sources = list(dict.fromkeys(h.chunk.doc_source for h in ctx.hits))[: self.config.documents]
        top = ctx.hits[0].score if ctx.hits else 1.0
        heads = [Hit(chunk, top) for s in sources for chunk in self.resources.store.head(s, pack.config.head_chars)]
        ids = {h.chunk.id for h in heads}
        ctx.hits = heads + [h for h in ctx.hits if h.chunk.id not in ids]
        return {"added": len(heads), "chunk_ids": sorted(ids)}
