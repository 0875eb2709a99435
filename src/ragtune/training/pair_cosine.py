"""The scoring head of ragtune's cross-encoder reranker: question and passage are encoded together (every token
attends to both), then each side's token vectors are mean-pooled and the score is ``scale * cos + bias``.

Started from a mean-pooled sentence embedder (MiniLM), the untrained model already ranks like the embedder and
better (the cross-attention sees both texts), so a few hundred training pairs refine a good ranker instead of
teaching a new head from nothing; a head on the [CLS] vector learns almost nothing from that little data (see
docs/retrieval-evaluation.md)."""

from __future__ import annotations

import torch
from sentence_transformers.base.modules import Module
from torch import nn


class PairCosine(Module):
    """Reads ``token_embeddings``, ``attention_mask`` and ``token_type_ids`` (0: [CLS] question [SEP], 1: passage
    [SEP]); writes ``scores`` (batch, 1), the relevance logit."""

    config_keys = ["scale", "bias"]

    def __init__(self, scale: float = 20.0, bias: float = -10.0) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(float(scale)))
        self.bias = nn.Parameter(torch.tensor(float(bias)))

    def forward(self, features: dict[str, torch.Tensor], **kwargs) -> dict[str, torch.Tensor]:
        if "token_type_ids" not in features:
            raise ValueError("PairCosine needs a tokenizer that marks the two texts with token_type_ids")
        tokens, mask = features["token_embeddings"], features["attention_mask"].unsqueeze(-1).to(torch.float32)
        second = features["token_type_ids"].unsqueeze(-1).to(torch.float32)
        question = _mean(tokens, mask * (1 - second))
        passage = _mean(tokens, mask * second)
        cosine = nn.functional.cosine_similarity(question, passage, dim=-1)
        features["scores"] = (self.scale * cosine + self.bias).unsqueeze(1)
        return features

    def get_config_dict(self) -> dict[str, float]:
        return {"scale": float(self.scale.detach()), "bias": float(self.bias.detach())}

    def save(self, output_path: str, *args, safe_serialization: bool = True, **kwargs) -> None:
        self.save_config(output_path)


def _mean(tokens: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    return (tokens * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
