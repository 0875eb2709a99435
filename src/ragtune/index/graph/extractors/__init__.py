"""Entity and relation extractors, registered by name: ``rules`` (no LLM, the default) and ``llm``."""

from ragtune.index.graph.extractors.base import ExtractionCost, Extractor, extractors
from ragtune.index.graph.extractors.llm import LLMExtractor
from ragtune.index.graph.extractors.rules import RuleExtractor

__all__ = ["ExtractionCost", "Extractor", "LLMExtractor", "RuleExtractor", "extractors"]
