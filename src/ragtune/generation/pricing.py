"""Cost of LLM calls from the configured price sheet."""

from __future__ import annotations

from ragtune.config import Price
from ragtune.llm import Generation


def call_cost(prices: dict[str, Price], model: str | None, prompt_tokens: int, completion_tokens: int,
              seconds: float) -> float:
    """Token prices for API models plus hourly price x generation time for self-hosted ones (USD).
    A model missing from the sheet costs 0."""
    price = prices.get(model or "")
    if price is None:
        return 0.0
    return (prompt_tokens * price.input_per_mtok + completion_tokens * price.output_per_mtok) / 1e6 \
        + price.hourly_usd * seconds / 3600


def generation_cost(prices: dict[str, Price], gen: Generation) -> float:
    return call_cost(prices, gen.model, gen.prompt_tokens, gen.completion_tokens, gen.latency_s)
