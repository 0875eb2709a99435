"""Dense embeddings with sentence-transformers, cached by content hash in the store."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ragtune.config import EmbedderConfig
from ragtune.errors import ConfigError
from ragtune.index.store import Store
from ragtune.models import model_dir

if TYPE_CHECKING:
    from ragtune.model_registry import ModelRegistry


def resolve_embedder(name: str, registry: ModelRegistry | None = None) -> tuple[str, str]:
    """(folder, identity) of an embedder: a model registry version (``v3``, ``champion``), an installed model
    package, a folder or a hub id. The identity keys embedding caches and indexes, so changing the model (or the
    version ``champion`` points to) re-embeds instead of mixing vectors of two models."""
    from ragtune.model_registry import is_version_ref, version_identity

    if not is_version_ref(name):
        return model_dir(name, marker="modules.json"), name
    if registry is None:
        raise ConfigError(f"embedder {name!r} is a model registry version, but no project registry was given")
    version = registry.resolve(name, "embedder")
    return str(registry.folder(version)), version_identity(version)


@lru_cache(maxsize=1)
def cpu_has_amx() -> bool:
    """Whether this CPU multiplies bfloat16 matrices natively (Intel AMX), where bfloat16 is several times faster
    than float32; elsewhere bfloat16 on a CPU is emulated and slower."""
    try:
        return re.search(r"\bamx_bf16\b", Path("/proc/cpuinfo").read_text()) is not None
    except OSError:
        return False


def resolve_precision(config: EmbedderConfig) -> str:
    """``float32`` or ``bfloat16``: ``auto`` is bfloat16 on a CPU with AMX (measured in docs/performance.md)."""
    if config.precision != "auto":
        return config.precision
    return "bfloat16" if config.device == "cpu" and cpu_has_amx() else "float32"


class Embedder:
    """Unit-normalised float32 vectors; the model loads on first use. ``registry`` resolves version ids. A
    bfloat16 embedder has its own identity (``<model>@bfloat16``): its vectors differ slightly from float32 ones,
    so caches and indexes never mix the two."""

    def __init__(self, config: EmbedderConfig, registry: ModelRegistry | None = None) -> None:
        self.config = config
        self.path, model_identity = resolve_embedder(config.model, registry)
        self.precision = resolve_precision(config)
        self.identity = model_identity if self.precision == "float32" else f"{model_identity}@{self.precision}"

    @property
    def model(self):
        return load_sentence_transformer(self.path, self.config.device)

    @property
    def dimension(self) -> int:
        return self.model.get_sentence_embedding_dimension()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        import torch

        with torch.autocast(torch.device(self.config.device).type, dtype=torch.bfloat16,
                            enabled=self.precision == "bfloat16"):
            vectors = self.model.encode(
                list(texts), batch_size=self.config.batch_size, normalize_embeddings=True,
                convert_to_numpy=True, show_progress_bar=False,
            )
        return vectors.astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def cache_key(self, text: str) -> str:
        return hashlib.sha256(f"{self.identity}\0{text}".encode()).hexdigest()

    def embed_cached(self, texts: Sequence[str], store: Store,
                     on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        """Embed ``texts``, reusing vectors already computed for identical text with the same model."""
        keys = [self.cache_key(t) for t in texts]
        cached = store.cached_vectors(keys)
        missing = list({k: i for i, k in enumerate(keys) if k not in cached}.values())  # each new text once
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
def load_sentence_transformer(path: str, device: str):
    """One loaded model per (path, device) and process, shared by all projects."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(path, device=device)
