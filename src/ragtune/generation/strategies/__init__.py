"""Answer strategies, selected by name (``answer.strategy``; ``rag:extract`` in a bench arm)."""

from ragtune.generation.strategies import compute, extract, extract_generate, generate  # noqa: F401  (registers them)
from ragtune.generation.strategies.base import AnswerStrategy, strategies

__all__ = ["AnswerStrategy", "strategies"]
