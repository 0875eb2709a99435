"""Configuration of evaluation and benchmarking."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class BenchConfig(BaseModel):
    """``bench:`` in ragtune.yaml."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())
