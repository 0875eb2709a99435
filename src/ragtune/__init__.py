"""ragtune: domain-specific LLM applications with advanced RAG, small-model fine-tuning and a measured
choice between them."""

from ragtune.project import Project

__version__ = "0.1.0"
__all__ = ["Project", "__version__"]
