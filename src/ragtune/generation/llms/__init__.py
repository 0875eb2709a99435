"""LLM backends, registered by name: llama_cpp, transformers, openai."""

from ragtune.config import LLMConfig
from ragtune.generation.llms.base import LLM, Generation, Message, llms


def load_llm(config: LLMConfig) -> LLM:
    """The configured backend (its module is imported only now, so heavy libraries stay lazy)."""
    import importlib

    importlib.import_module(f"ragtune.generation.llms.{config.backend}")
    return llms.get(config.backend)(config)


__all__ = ["LLM", "Generation", "Message", "load_llm", "llms"]
