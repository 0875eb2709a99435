"""Entity and relation extractors, registered by name: ``rules`` (no LLM, no domain rule: the default),
``contracts`` (the contracts pack's rules, no LLM) and ``llm``."""

from ragtune.index.graph.extractors.base import ExtractionCost, Extractor, extractors
from ragtune.index.graph.extractors.contracts import ContractExtractor
from ragtune.index.graph.extractors.llm import LLMExtractor
from ragtune.index.graph.extractors.rules import RuleExtractor

__all__ = ["ContractExtractor", "ExtractionCost", "Extractor", "LLMExtractor", "RuleExtractor", "extractors"]
