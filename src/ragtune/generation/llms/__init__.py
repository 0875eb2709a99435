"""LLM backends, registered by name: llama_cpp, transformers, openai."""

from ragtune.config import LLMConfig
from ragtune.errors import ConfigError
from ragtune.llm import LLM, Generation, Message, llms


def load_llm(config: LLMConfig) -> LLM:
    """The configured backend (its module is imported only now, so heavy libraries stay lazy)."""
    import importlib

    importlib.import_module(f"ragtune.generation.llms.{config.backend}")
    if config.lora_path:
        if config.backend != "llama_cpp":
            raise ConfigError(f"llm.lora_path needs the llama_cpp backend, not {config.backend!r}")
        return llms.get(config.backend)(config, lora_path=config.lora_path)
    return llms.get(config.backend)(config)


__all__ = ["LLM", "Generation", "Message", "load_llm", "llms"]
