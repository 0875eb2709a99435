"""Configuration of dataset building (synthetic QA, feedback exports)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class DatasetsConfig(BaseModel):
    """``datasets:`` in ragtune.yaml."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())
