"""The registry of answer packs and how ``answer.pack`` / ``answer.pack_options`` become one."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ragtune.errors import ConfigError
from ragtune.packs.base import AnswerPack
from ragtune.registry import Registry, UnknownComponentError

packs: Registry[AnswerPack] = Registry("answer pack")


def make_pack(name: str, options: dict[str, Any] | None = None) -> AnswerPack:
    """The pack ``name`` with its ``Config`` validated from ``options``; a ConfigError names a bad pack or option."""
    try:
        cls = packs.get(name)
    except UnknownComponentError as e:
        raise ConfigError(f"answer.pack: {e}") from None
    try:
        config = cls.Config(**(options or {}))
    except ValidationError as e:
        raise ConfigError(f"answer.pack_options of pack {name!r}: {e}") from None
    return cls(config)
