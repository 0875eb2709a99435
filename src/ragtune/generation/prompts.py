"""Grounded prompts: numbered context passages, an instruction to cite them, and a plain refusal."""

from __future__ import annotations

from collections.abc import Sequence

from ragtune.documents.models import Chunk
from ragtune.generation.llms.base import Message

NO_ANSWER = "The documents do not contain the answer to this question."

SYSTEM = (
    "You answer questions about a collection of documents using only the numbered context passages. "
    "Quote or paraphrase the passages; do not add facts that are not in them. After each sentence, cite "
    "the passages that support it with their numbers in square brackets, like [1] or [2][3]. "
    f"If the passages do not contain the answer, reply exactly: {NO_ANSWER}"
)


def passage_header(n: int, chunk: Chunk) -> str:
    where = f"{chunk.doc_source}" + (f", page {chunk.page}" if chunk.page is not None else "")
    return f"[{n}] ({where})"


def grounded_messages(question: str, chunks: Sequence[Chunk], notes: str | None = None) -> list[Message]:
    """System instruction plus numbered passages; ``notes`` (e.g. answers to sub-questions) go before the
    question."""
    context = "\n\n".join(f"{passage_header(i, c)}\n{c.text}" for i, c in enumerate(chunks, start=1))
    extra = f"\n\n{notes}" if notes else ""
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"Context passages:\n\n{context}{extra}\n\nQuestion: {question}\nAnswer:"},
    ]
