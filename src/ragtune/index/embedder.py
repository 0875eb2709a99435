"""Dense embeddings with sentence-transformers, cached by content hash in the store."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np

from ragtune.config import EmbedderConfig
from ragtune.index.store import Store
from ragtune.models import model_dir


class Embedder:
    """Unit-normalised float32 vectors; the model loads on first use."""

    def __init__(self, config: EmbedderConfig) -> None:
        self.config = config
        self.path = model_dir(config.model, marker="modules.json")

    @property
    def model(self):
        return _load(self.path, self.config.device)

    @property
    def dimension(self) -> int:
        return self.model.get_sentence_embedding_dimension()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            list(texts), batch_size=self.config.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return vectors.astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def cache_key(self, text: str) -> str:
        return hashlib.sha256(f"{self.config.model}\0{text}".encode()).hexdigest()

    def embed_cached(self, texts: Sequence[str], store: Store,
                     on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        """Embed ``texts``, reusing vectors already computed for identical text with the same model."""
        keys = [self.cache_key(t) for t in texts]
        cached = store.cached_vectors(keys)
        missing = [i for i, k in enumerate(keys) if k not in cached]
        if missing:
            new = self.embed([texts[i] for i in missing])
            store.cache_vectors([keys[i] for i in missing], new)
            cached.update({keys[i]: v for i, v in zip(missing, new, strict=True)})
        if on_batch:
            on_batch(len(texts))
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([cached[k] for k in keys])


@lru_cache(maxsize=4)
def _load(path: str, device: str):
    """One loaded model per (path, device) and process, shared by all projects."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(path, device=device)
