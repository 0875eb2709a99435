"""``varlen_sdpa``: attention for padding-free (packed) batches without FlashAttention.

TRL's padding-free collator flattens a batch into one row and passes the sequence boundaries
(``cu_seq_lens_q``). FlashAttention's varlen kernel uses them on GPUs; plain SDPA instead builds one
block-diagonal mask over the whole row and falls back to its quadratic math kernel. This runs SDPA's fused causal
kernel once per sequence, so a packed batch costs what its sequences cost, with no padding."""

from __future__ import annotations

NAME = "varlen_sdpa"


def varlen_sdpa_attention(module, query, key, value, attention_mask, dropout: float = 0.0, scaling=None,
                          cu_seq_lens_q=None, **kwargs):
    """Inputs are (batch, heads, length, dim); returns (batch, length, heads, dim) like transformers' kernels."""
    import torch
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    if cu_seq_lens_q is None or query.shape[0] != 1:
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling,
                                      **kwargs)
    bounds = cu_seq_lens_q.tolist()
    gqa = query.shape[1] != key.shape[1]
    dropout = dropout if module.training else 0.0
    parts = [
        torch.nn.functional.scaled_dot_product_attention(
            query[:, :, s:e], key[:, :, s:e], value[:, :, s:e], dropout_p=dropout, is_causal=True, scale=scaling,
            enable_gqa=gqa)
        for s, e in zip(bounds[:-1], bounds[1:], strict=True) if e > s
    ]
    return torch.cat(parts, dim=2).transpose(1, 2).contiguous(), None


def _mask(*args, attention_mask=None, **kwargs):
    """No mask for padding-free rows (each sequence is causal on its own); SDPA's mask for padded batches."""
    from transformers.masking_utils import sdpa_mask

    return None if attention_mask is None else sdpa_mask(*args, attention_mask=attention_mask, **kwargs)


def register() -> str:
    """Make ``attn_implementation="varlen_sdpa"`` available to transformers models (idempotent)."""
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface

    AttentionInterface.register(NAME, varlen_sdpa_attention)
    AttentionMaskInterface.register(NAME, _mask)
    return NAME
