"""Token counting with a real model tokenizer (the embedder's, by default), without importing torch."""

from __future__ import annotations

import bisect
from functools import lru_cache
from pathlib import Path

from tokenizers import Tokenizer

from ragtune.errors import ModelError


class TokenCounter:
    """Counts tokens of text spans from a single encoding of the whole text."""

    def __init__(self, tokenizer_file: str | Path) -> None:
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()

    def count(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def offsets(self, text: str) -> list[tuple[int, int]]:
        """Character spans of the tokens of ``text``."""
        return [o for o in self.tokenizer.encode(text, add_special_tokens=False).offsets if o[1] > o[0]]


class SpanCounter:
    """Token counts of arbitrary spans of one text, answered by bisection over token offsets."""

    def __init__(self, counter: TokenCounter, text: str) -> None:
        self.offsets = counter.offsets(text)
        self.starts = [s for s, _ in self.offsets]
        self.text = text

    def word_start(self, i: int, floor: int = 0) -> int:
        """The nearest token index <= ``i`` (and >= ``floor``) that begins a word rather than continuing
        one (subword pieces have no gap to the previous token and sit between alphanumerics)."""
        while i > floor:
            prev_end, start = self.offsets[i - 1][1], self.offsets[i][0]
            if start > prev_end or not (self.text[start].isalnum() and self.text[start - 1].isalnum()):
                return i
            i -= 1
        return floor

    def count(self, start: int, end: int) -> int:
        return bisect.bisect_left(self.starts, end) - bisect.bisect_left(self.starts, start)

    def token_span(self, start: int, end: int) -> tuple[int, int]:
        """Indices [i, j) of the tokens starting inside [start, end)."""
        return bisect.bisect_left(self.starts, start), bisect.bisect_left(self.starts, end)


@lru_cache(maxsize=4)
def token_counter_for(model_dir: str) -> TokenCounter:
    """The tokenizer shipped with a local model directory."""
    path = Path(model_dir) / "tokenizer.json"
    if not path.is_file():
        raise ModelError(f"no tokenizer.json in model directory {model_dir}")
    return TokenCounter(path)
