"""QA generators, registered by name (the row's ``type``): factual, reasoning, multi_hop, unanswerable,
extractive."""

from ragtune.datasets.generators import extractive, factual, multi_hop, reasoning, unanswerable  # noqa: F401
from ragtune.datasets.generators.base import Draft, Dropped, Generator, LLMGenerator, generators

__all__ = ["Draft", "Dropped", "Generator", "LLMGenerator", "generators"]
