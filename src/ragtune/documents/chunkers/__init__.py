"""Chunkers, registered by name: token_window, sentence, recursive, parent_child, sentence_window."""

from typing import Annotated

from pydantic import Field

from ragtune.documents.chunkers.base import Chunker, ChunkerConfig, chunkers
from ragtune.documents.chunkers.parent_child import ParentChildChunker, ParentChildConfig
from ragtune.documents.chunkers.recursive import RecursiveChunker, RecursiveConfig
from ragtune.documents.chunkers.sentence import SentenceChunker, SentenceConfig
from ragtune.documents.chunkers.sentence_window import SentenceWindowChunker, SentenceWindowConfig
from ragtune.documents.chunkers.token_window import TokenWindowChunker, TokenWindowConfig

AnyChunkerConfig = Annotated[
    TokenWindowConfig | SentenceConfig | RecursiveConfig | ParentChildConfig | SentenceWindowConfig,
    Field(discriminator="name"),
]

__all__ = [
    "AnyChunkerConfig",
    "Chunker",
    "ChunkerConfig",
    "ParentChildChunker",
    "RecursiveChunker",
    "SentenceChunker",
    "SentenceWindowChunker",
    "TokenWindowChunker",
    "chunkers",
]
