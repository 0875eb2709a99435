"""Extractor interface: one chunk in, an ``Extraction`` (entities and relations) out."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from ragtune.documents.models import Chunk
from ragtune.index.graph.config import GraphConfig
from ragtune.index.graph.schema import Extraction
from ragtune.registry import Registry

if TYPE_CHECKING:
    from ragtune.llm import LLM

log = logging.getLogger("ragtune.graph")


@dataclass
class ExtractionCost:
    """LLM work and failures of one graph build (shown in the build and ingest summaries)."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    chunks: int = 0
    cached: int = 0
    repaired: int = 0
    retried: int = 0
    degraded: int = 0
    dropped_items: int = 0
    warnings: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        log.warning(message)
        if len(self.warnings) < 20:
            self.warnings.append(message)


class Extractor(ABC):
    """A technique that reads one chunk. ``cache_key`` is None for extractors cheap enough to rerun."""

    name: ClassVar[str]
    uses_llm: ClassVar[bool] = False
    name_relations: ClassVar[frozenset[str]] = frozenset()
    """Relation types whose target is a name or a definition, not a value (left out of ``compare``'s key terms)."""

    def __init__(self, config: GraphConfig, llm: LLM | None = None) -> None:
        self.config = config
        self.llm = llm
        self.cost = ExtractionCost()

    def cache_key(self) -> str | None:
        """Identifies this extractor's output for a given text (model, prompt version), or None: no cache."""
        return None

    @abstractmethod
    def extract(self, chunk: Chunk, before: str = "") -> Extraction:
        """Entities and relations found in ``chunk``; ``before`` is the text preceding it in its document (a
        name cut from its defined alias by a chunk boundary). Never raises on bad model output."""


extractors: Registry[Extractor] = Registry("graph extractor")
