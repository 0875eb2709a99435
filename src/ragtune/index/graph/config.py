"""``index.graph`` in ragtune.yaml: how the knowledge graph is extracted, merged and searched."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())


class LLMExtractorConfig(_Strict):
    """The ``llm`` extractor: JSON following a schema, repaired and validated, retried, else the generic rules
    (the ``rules`` extractor, whatever the pack)."""

    max_tokens: int = Field(320, ge=1)
    max_retries: int = Field(1, ge=0, description="Extra attempts after invalid JSON before degrading.")
    max_chunk_chars: int = Field(2400, ge=200)


class GraphConfig(_Strict):
    """The knowledge graph (``ragtune graph build``). ``extractor``: ``rules`` (fast, no LLM, no domain rule),
    ``contracts`` (the contracts pack's rules; ``ragtune init --domain contracts`` sets it) or ``llm``."""

    extractor: str = "rules"
    build_on_ingest: bool = False
    llm: LLMExtractorConfig = Field(default_factory=LLMExtractorConfig)
    merge_similarity: float = Field(0.93, gt=0, le=1, description="Name embeddings at least this similar merge "
                                                                  "(parties, organisations, people).")
    resolution: float = Field(1.0, gt=0, description="Louvain resolution for communities (higher: smaller).")
    summary_max_tokens: int = Field(160, ge=16)
    global_communities: int = Field(6, ge=1, description="Communities mapped per global question.")
    answer_max_tokens: int = Field(200, ge=16)
    global_facts: int = Field(8, ge=0, description="Graph facts closest to a global question shown with its answer.")
