"""Grounded prompts: numbered context passages, an instruction to cite them, and a plain refusal."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePath

from ragtune.documents.models import Chunk
from ragtune.llm import Message

NO_ANSWER = "The documents do not contain the answer to this question."

SYSTEM = (
    "You answer questions about a collection of documents using only the numbered context passages. "
    "Quote or paraphrase the passages; do not add facts that are not in them. After each sentence, cite "
    "the passages that support it with their numbers in square brackets, like [1] or [2][3]. "
    f"If the passages do not contain the answer, reply exactly: {NO_ANSWER}"
)


def passage_header(n: int, chunk: Chunk) -> str:
    """``[n] (file name, page p)``: the name only, so a prompt does not depend on where the corpus lies."""
    name = PurePath(chunk.doc_source).name or chunk.doc_source
    return f"[{n}] ({name}" + (f", page {chunk.page})" if chunk.page is not None else ")")


def grounded_messages(question: str, chunks: Sequence[Chunk], notes: str | None = None) -> list[Message]:
    """System instruction plus numbered passages; ``notes`` (e.g. answers to sub-questions) go before the
    question. The question is stated before the passages as well as after them (query-aware contextualisation,
    Liu et al. 2023, "Lost in the Middle"): small models then read the passages for it."""
    context = "\n\n".join(f"{passage_header(i, c)}\n{c.text}" for i, c in enumerate(chunks, start=1))
    extra = f"\n\n{notes}" if notes else ""
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"Question: {question}\n\nContext passages:\n\n{context}{extra}\n\n"
                                    f"Question: {question}\nAnswer:"},
    ]
