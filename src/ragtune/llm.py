"""The LLM backend interface: chat messages in, text plus usage and latency out."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from ragtune.config import LLMConfig
from ragtune.registry import Registry

Message = dict[str, str]
OnToken = Callable[[str], None]


@dataclass
class Generation:
    """One completion with what it cost to make."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    model: str
    finish_reason: str | None = None

    @property
    def usage(self) -> dict[str, int]:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens}


@dataclass
class RawGeneration:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str | None


class LLM(ABC):
    """A chat model. ``generate`` streams tokens to ``on_token`` when given and always returns the whole
    generation. Per-call keyword overrides (max_tokens, temperature, stop, ...) beat the config."""

    name: ClassVar[str]

    def __init__(self, config: LLMConfig) -> None:
        self.config = config

    @property
    def model_id(self) -> str:
        """The name prices and records use."""
        return self.config.model

    def params(self, overrides: dict[str, Any]) -> dict[str, Any]:
        c = self.config
        base = {"max_tokens": c.max_tokens, "temperature": c.temperature, "top_p": c.top_p,
                "repeat_penalty": c.repeat_penalty, "seed": c.seed, "stop": None}
        unknown = set(overrides) - set(base)
        if unknown:
            raise TypeError(f"unknown generation options: {sorted(unknown)}")
        return base | overrides

    def generate(self, messages: list[Message], on_token: OnToken | None = None, **overrides: Any) -> Generation:
        t0 = time.perf_counter()
        raw = self._generate(messages, self.params(overrides), on_token)
        return Generation(raw.text, raw.prompt_tokens, raw.completion_tokens, time.perf_counter() - t0,
                          self.model_id, raw.finish_reason)

    @abstractmethod
    def _generate(self, messages: list[Message], params: dict[str, Any], on_token: OnToken | None) -> RawGeneration:
        """Backend-specific generation."""

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` in this model's tokenizer."""
        raise NotImplementedError


llms: Registry[LLM] = Registry("LLM backend")
