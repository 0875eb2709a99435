"""Training: LoRA SFT, preference tuning (DPO, KTO), embedder and reranker tuning, the model registry."""
