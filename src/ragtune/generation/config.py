"""Configuration of multi-document analysis (``compare:`` in ragtune.yaml)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class CompareConfig(BaseModel):
    """``ragtune compare``: per document, retrieve ``top_k`` chunks for the aspect and summarise them (map),
    then compare the summaries (reduce). An empty generation is retried ``retries`` times, then degrades."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())
    top_k: int = Field(3, ge=1)
    pipeline: str | None = Field(None, description="Retrieval pipeline per document (default: retrieval.pipeline).")
    map_max_tokens: int = Field(160, ge=8)
    reduce_max_tokens: int = Field(256, ge=8)
    retries: int = Field(1, ge=0)
