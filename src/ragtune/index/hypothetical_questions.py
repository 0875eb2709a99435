"""Hypothetical-question indexing: at ingest the LLM writes questions each chunk answers; the questions
are indexed as searchable children that resolve to their chunk, so a user's question matches a question."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ragtune.config import HypotheticalQuestionsConfig
from ragtune.documents.models import Chunk
from ragtune.parsing import parse_lines

if TYPE_CHECKING:
    from ragtune.llm import LLM

PROMPT = ("Write {n} short questions that the following passage answers. Each question must be answerable "
          "from the passage alone. One question per line, nothing else.\n\nPassage:\n{text}\n\nQuestions:")


@dataclass
class EnrichmentCost:
    """LLM work spent while indexing, shown in the ingest summary."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    added: int = 0


class HypotheticalQuestions:
    """Adds question chunks (``metadata.kind == "question"``) whose parent is the chunk they were written for."""

    def __init__(self, config: HypotheticalQuestionsConfig, llm: LLM, count_tokens: Callable[[str], int]) -> None:
        self.config = config
        self.llm = llm
        self.count_tokens = count_tokens
        self.cost = EnrichmentCost()

    def expand(self, chunks: Sequence[Chunk]) -> list[Chunk]:
        out = list(chunks)
        for chunk in chunks:
            if chunk.parent_id is not None:
                continue  # children resolve to a parent already: questions are written for the parent
            t0 = time.perf_counter()
            gen = self.llm.generate([{"role": "user", "content": PROMPT.format(n=self.config.per_chunk,
                                                                                text=chunk.text)}],
                                    max_tokens=self.config.max_tokens)
            self.cost.calls += 1
            self.cost.prompt_tokens += gen.prompt_tokens
            self.cost.completion_tokens += gen.completion_tokens
            self.cost.seconds += time.perf_counter() - t0
            for j, question in enumerate(parse_lines(gen.text, self.config.per_chunk)):
                out.append(Chunk(f"{chunk.id}-q{j}", chunk.doc_source, question, chunk.start, chunk.end, chunk.page,
                                 self.count_tokens(question), parent_id=chunk.id, metadata={"kind": "question"}))
                self.cost.added += 1
        return out
