"""``generate``: the LLM reads every retrieved passage and writes a cited answer."""

from __future__ import annotations

from ragtune.generation.prompts import grounded_messages
from ragtune.generation.strategies.base import AnswerStrategy, strategies


@strategies.register("generate")
class Generate(AnswerStrategy):
    """The grounded prompt with all passages (about 900 tokens at top_k 4); the model cites them itself."""

    def respond(self, question, chunks, traces, stage="generate", notes=None, on_token=None, focus=None) -> str:
        return self.call(grounded_messages(question, chunks, notes), traces, stage, on_token)
