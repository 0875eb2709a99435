"""Configuration of fine-tuning (SFT, preference tuning, the continuous loop)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class TrainingConfig(BaseModel):
    """``training:`` in ragtune.yaml."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())
