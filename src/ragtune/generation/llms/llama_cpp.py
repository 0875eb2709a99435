"""GGUF models through llama-cpp-python, using the chat template stored in the GGUF file."""

from __future__ import annotations

import atexit
import os
from functools import cached_property
from typing import Any

from ragtune.config import LLMConfig
from ragtune.errors import ModelError
from ragtune.generation.profiles import resolve_gguf
from ragtune.llm import LLM, Message, OnToken, RawGeneration, llms


@llms.register("llama_cpp")
class LlamaCppLLM(LLM):
    """Fast CPU/GPU inference of quantised models. ``lora_path`` adds a GGUF LoRA adapter."""

    def __init__(self, config: LLMConfig, lora_path: str | None = None) -> None:
        super().__init__(config)
        path = resolve_gguf(config.gguf_file or config.model)
        if path is None:
            raise ModelError(f"llama_cpp backend needs a profile name or a .gguf file, got {config.model!r}")
        self.path = path
        self.lora_path = lora_path

    @cached_property
    def llm(self):
        from llama_cpp import Llama

        try:
            llm = Llama(
                model_path=str(self.path), n_ctx=self.config.n_ctx, seed=self.config.seed, verbose=False,
                n_threads=self.config.threads or max(1, (os.cpu_count() or 2)), lora_path=self.lora_path,
            )
        except (ValueError, RuntimeError) as e:
            raise ModelError(f"{self.path}: cannot load GGUF model: {e}") from None
        atexit.register(llm.close)  # free native memory before interpreter teardown (else noisy __del__)
        return llm

    def _generate(self, messages: list[Message], params: dict[str, Any], on_token: OnToken | None) -> RawGeneration:
        self.llm.reset()
        kwargs = dict(messages=messages, max_tokens=params["max_tokens"], temperature=params["temperature"],
                      top_p=params["top_p"], repeat_penalty=params["repeat_penalty"], seed=params["seed"],
                      stop=params["stop"])
        try:
            if on_token is None:
                out = self.llm.create_chat_completion(**kwargs)
                choice = out["choices"][0]
                return RawGeneration(choice["message"]["content"] or "", out["usage"]["prompt_tokens"],
                                     out["usage"]["completion_tokens"], choice["finish_reason"])
            parts, finish = [], None
            for chunk in self.llm.create_chat_completion(**kwargs, stream=True):
                choice = chunk["choices"][0]
                if piece := choice["delta"].get("content"):
                    parts.append(piece)
                    on_token(piece)
                finish = choice.get("finish_reason") or finish
        except ValueError as e:  # e.g. prompt longer than the context window
            raise ModelError(f"{self.path.name}: {e}") from None
        return RawGeneration("".join(parts), self.llm.n_tokens - len(parts), len(parts), finish)

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode(), add_bos=False, special=False))
