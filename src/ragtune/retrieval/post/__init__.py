"""Post-retrieval: rerank, filter and reshape retrieved chunks."""
