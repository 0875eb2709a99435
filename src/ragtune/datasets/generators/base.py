"""The generator interface: a chunk in, a draft QA pair linked to its chunks out (or ``Dropped``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from ragtune.datasets.config import GeneratorConfig, LLMGeneratorConfig
from ragtune.datasets.context import SynthContext
from ragtune.datasets.parsing import ParseError, parse_qa
from ragtune.datasets.qa import QAPair
from ragtune.datasets.text import sentences
from ragtune.documents.models import Chunk
from ragtune.registry import Registry


class Dropped(Exception):
    """No pair could be made from this chunk; ``reason`` is a short code the data card counts."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Draft:
    """A pair before rating, with the chunks it must be grounded in and, for LLM answers, the chunk text
    the question was written from (the answer to fall back on when the model's is not supported)."""

    pair: QAPair
    chunks: list[Chunk]
    fallback_answer: str | None = None

    def with_fallback_answer(self) -> Draft:
        p = self.pair
        return Draft(QAPair(p.question, self.fallback_answer or p.answer, p.type, p.chunk_ids, p.sources), self.chunks)

    @property
    def evidence(self) -> str:
        return "\n\n".join(c.text for c in self.chunks)


class Generator(ABC):
    """Writes one kind of question. ``draft`` raises Dropped when the chunk does not yield a pair."""

    name: ClassVar[str]
    Config: ClassVar[type[GeneratorConfig]] = GeneratorConfig

    def __init__(self, config: GeneratorConfig, ctx: SynthContext) -> None:
        self.config = config
        self.ctx = ctx

    @abstractmethod
    def draft(self, chunk: Chunk) -> Draft:
        """A pair grounded in ``chunk`` (and possibly related chunks)."""

    def make(self, question: str, answer: str, chunks: list[Chunk], fallback_answer: str | None = None) -> Draft:
        sources = list(dict.fromkeys(c.doc_source for c in chunks))
        return Draft(QAPair(question, answer, self.name, [c.id for c in chunks], sources), chunks, fallback_answer)


Shot = tuple[str, str]


class LLMGenerator(Generator):
    """Few-shot prompts the LLM for ``Question: ... / Answer: ...``; regenerates (up to ``max_retries``
    times, each with a new seed) while the output cannot be parsed."""

    Config = LLMGeneratorConfig
    config: LLMGeneratorConfig
    system: ClassVar[str]
    shots: ClassVar[list[Shot]]

    def ask(self, user: str) -> str:
        messages = [{"role": "system", "content": self.system}]
        for shot_user, shot_reply in self.shots:
            messages += [{"role": "user", "content": shot_user}, {"role": "assistant", "content": shot_reply}]
        messages.append({"role": "user", "content": user})
        return self.ctx.generate(messages, max_tokens=self.config.max_tokens, temperature=self.config.temperature)

    def ask_qa(self, user: str) -> tuple[str, str]:
        reason = "parse"
        for _ in range(self.config.max_retries + 1):
            try:
                return parse_qa(self.ask(user))
            except ParseError as e:
                reason = e.reason
        raise Dropped(f"unparsed_{reason}")

    def fallback(self, text: str) -> str | None:
        return text if self.config.fallback_answer else None

    def focus(self, chunk: Chunk) -> str:
        """``focus_sentences`` consecutive sentences of the chunk, from a random place."""
        sents = sentences_of(chunk)
        k = min(self.config.focus_sentences, len(sents))
        i = self.ctx.rng.randrange(len(sents) - k + 1)
        return " ".join(sents[i : i + k])


def sentences_of(chunk: Chunk) -> list[str]:
    found = sentences(chunk.text)
    if not found:
        raise Dropped("no_sentences")
    return found


generators: Registry[Generator] = Registry("QA generator")
