"""The chunk store interface: documents, chunks and their vectors, changed one document at a time."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ragtune.documents.models import Chunk, Document
from ragtune.errors import ConfigError


@dataclass(frozen=True)
class StoredDocument:
    source: str
    sha256: str
    title: str
    n_chunks: int


def glob_escape(text: str) -> str:
    """A ``source`` filter pattern (SQLite GLOB) matching ``text`` literally."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def _regex_char(c: str) -> str:
    return c if c.isalnum() else "\\" + c


def glob_to_regex(pattern: str) -> str:
    """The anchored POSIX regular expression (PostgreSQL ``~``) matching what SQLite's case-sensitive ``GLOB``
    matches: ``*`` any run of characters, ``?`` one character, ``[...]`` a set (``^`` negates, ``a-z`` is a
    range, a ``]`` first is literal); an unclosed ``[`` matches nothing, as in SQLite."""
    out, i, n = ["^"], 0, len(pattern)
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c != "[":
            out.append(_regex_char(c))
        else:
            invert = i < n and pattern[i] == "^"
            i += invert
            items, prior = [], None
            if i < n and pattern[i] == "]":
                items.append(_regex_char("]"))
                i += 1
            while i < n and pattern[i] != "]":
                c = pattern[i]
                if c == "-" and prior is not None and i + 1 < n and pattern[i + 1] != "]":
                    if prior <= pattern[i + 1]:  # else only the start matched, as a single character
                        items[-1] = f"{_regex_char(prior)}-{_regex_char(pattern[i + 1])}"
                    i, prior = i + 2, None
                    continue
                items.append(_regex_char(c))
                prior = c
                i += 1
            if i >= n:
                return "(?!)"  # unclosed: SQLite's GLOB matches nothing
            i += 1
            out.append(f"[{'^' if invert else ''}{''.join(items)}]")
    return "".join(out) + "$"


Filters = dict[str, str | int | list[str | int]]
"""Metadata filters: ``source`` (glob), ``title``, ``page``, ``section`` or any document metadata key.
A list means any of its values."""


@dataclass(frozen=True)
class DenseScan:
    """One scan a dense search ran: ``method`` (``hnsw``, ``exact``, ``vec0``), the HNSW ``ef_search`` it ran
    with, and the rows it returned."""

    method: str
    rows: int
    ef_search: int | None = None


def indexed_text(context: bool) -> str:
    """The name of what an index embeds per chunk (``Chunk.index_text``): ``context+text`` or ``text``."""
    return "context+text" if context else "text"


def check_meta(name: str, meta: Callable[[str], str | None], set_meta: Callable[[str, str], None],
               schema_version: int, embed_model: str, indexed: str = "context+text") -> None:
    """Stamp a new index with its schema version, generation 0, embedder and what it embeds (``indexed``, see
    ``indexed_text``); refuse one written by a newer ragtune, with another embedder or of other chunk text (an
    index without the stamp embedded the text alone) (``meta`` / ``set_meta`` read and write the store's
    key-value table)."""
    version = meta("schema_version")
    if version is None:
        set_meta("schema_version", str(schema_version))
        set_meta("generation", "0")
        set_meta("indexed_text", indexed)
    elif int(version) > schema_version:
        raise ConfigError(f"{name}: index schema v{version} is newer than this ragtune (v{schema_version})")
    stored = meta("embed_model")
    if stored is None:
        set_meta("embed_model", embed_model)
    elif stored != embed_model:
        raise ConfigError(f"{name}: index was built with embedder {stored!r} but ragtune.yaml says {embed_model!r}; "
                          "run `ragtune ingest --rebuild` to re-embed")
    stored = meta("indexed_text") or "text"
    if stored != indexed:
        raise ConfigError(f"{name}: index embeds chunk {stored!r} but index.context asks for {indexed!r} (chunk "
                          "context: document title > section > table title); run `ragtune ingest --rebuild`")

class Store(ABC):
    """Persistent chunks and vectors. Every method that changes data is atomic: after a crash the store
    holds either the old or the new version of a document, never a mix."""

    has_vector_index: ClassVar[bool] = False
    """Whether ``dense_search`` has an approximate index of its own (pgvector's HNSW), so that none is derived."""

    last_dense_scans: tuple[DenseScan, ...] = ()
    """The scans of the last ``dense_search``, in order; more than one means it widened a search that came back
    with fewer than ``k`` rows while more rows passed its filters."""

    @abstractmethod
    def documents(self) -> dict[str, StoredDocument]:
        """Stored documents by source."""

    @abstractmethod
    def replace_document(self, doc: Document, chunks: Sequence[Chunk], vectors: np.ndarray) -> int:
        """Store ``doc`` with its chunks (vectors for the indexed ones, in order), replacing any older
        version. Returns the number of chunks removed."""

    @abstractmethod
    def remove_document(self, source: str) -> int:
        """Delete a document and its chunks; returns the number of chunks removed."""

    @abstractmethod
    def chunks(self, ids: Sequence[str]) -> list[Chunk]:
        """Chunks by id, in the order asked (unknown ids are left out)."""

    @abstractmethod
    def head(self, source: str, chars: int) -> list[Chunk]:
        """A document's opening: its searchable chunks that start within its first ``chars`` characters, in order
        (where its title, parties and date usually are)."""

    @abstractmethod
    def indexed_chunks(self, context: bool = True) -> tuple[list[str], list[str]]:
        """Ids and texts of all searchable chunks, in a stable order (for building BM25); with ``context``, each
        text is ``Chunk.index_text``: its context line, then the text (what the embedder read), else the text."""

    @abstractmethod
    def indexed_vectors(self, batch: int = 50_000) -> Iterator[tuple[list[str], np.ndarray]]:
        """Ids and vectors (float32 rows) of all searchable chunks, ``batch`` at a time, from one consistent
        snapshot (for building an approximate vector index)."""

    @abstractmethod
    def matching_ids(self, filters: Filters) -> set[str]:
        """Ids of the searchable chunks that pass ``filters``."""

    @abstractmethod
    def dense_search(self, vector: np.ndarray, k: int, filters: Filters | None = None) -> list[tuple[str, float]]:
        """Top ``k`` (chunk id, cosine similarity) for a unit vector."""

    @abstractmethod
    def count_chunks(self) -> int:
        """All chunks, searchable ones and parents."""

    @abstractmethod
    def generation(self) -> int:
        """A counter bumped by every change, so derived indexes (BM25) know when they are stale."""

    @abstractmethod
    def cached_vectors(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """Embedding cache lookup by content hash."""

    @abstractmethod
    def cache_vectors(self, keys: Sequence[str], vectors: np.ndarray) -> None:
        """Remember embeddings by content hash."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""
