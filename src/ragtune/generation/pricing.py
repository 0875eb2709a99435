"""Cost of a generation from the configured price sheet."""

from __future__ import annotations

from ragtune.config import Price
from ragtune.generation.llms.base import Generation


def generation_cost(prices: dict[str, Price], gen: Generation) -> float:
    """Token prices for API models plus hourly price x generation time for self-hosted ones (USD).
    A model missing from the sheet costs 0."""
    price = prices.get(gen.model)
    if price is None:
        return 0.0
    return (gen.prompt_tokens * price.input_per_mtok + gen.completion_tokens * price.output_per_mtok) / 1e6 \
        + price.hourly_usd * gen.latency_s / 3600
