"""``RetrievalResources``: everything a retrieval component may use, handed to it explicitly.

``Project`` builds one from its configuration; a test builds one from a store it filled itself. What is
expensive to load or not always there (the LLM, cross-encoders, the knowledge graph) is a callable, called by
the stages that need it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ragtune.errors import ConfigError
from ragtune.packs import AnswerPack, packs

if TYPE_CHECKING:
    from ragtune.config import RetrievalConfig
    from ragtune.index.bm25 import BM25Index
    from ragtune.index.embedder import Embedder
    from ragtune.index.graph.knowledge_graph import KnowledgeGraph
    from ragtune.index.store import Store
    from ragtune.index.vector_index import VectorIndex
    from ragtune.llm import LLM


def _missing(what: str) -> Callable[..., Any]:
    def missing(*_args: Any) -> Any:
        raise ConfigError(f"this pipeline needs {what}, and none was given to its RetrievalResources")

    return missing


@dataclass(frozen=True)
class RetrievalResources:
    """The index (``store``, ``bm25``, ``vectors`` for dense search, ``embedder``), the ``retrieval`` settings,
    and providers: ``llm()`` for LLM stages, ``cross_encoder(ref)`` (a registry version id, ``champion``, a folder
    or a hub id) for ``rerank``, ``graph()`` (the knowledge graph and warnings about it) for ``graph``;
    ``count_tokens`` measures text in the embedder's tokens; ``pack`` is the answer pack (``answer.pack``), whose
    rules stages such as ``document_head`` ask."""

    store: Store
    bm25: BM25Index
    vectors: VectorIndex
    embedder: Embedder
    settings: RetrievalConfig
    count_tokens: Callable[[str], int]
    llm: Callable[[], LLM] = _missing("an LLM")
    cross_encoder: Callable[[str], Any] = _missing("a cross-encoder")
    graph: Callable[[], tuple[KnowledgeGraph, list[str]]] = _missing("a knowledge graph")
    pack: AnswerPack = field(default_factory=lambda: packs.get("generic")())
