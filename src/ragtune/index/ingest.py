"""Folder ingestion: find files, load, chunk, embed, store — incremental, idempotent and crash-safe.

Each document is written in one store transaction, so a killed run leaves every document either fully
old or fully new, and the next run picks up where it stopped (unchanged files are recognised by sha256)."""

from __future__ import annotations

import fnmatch
import hashlib
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ragtune.config import DocumentsConfig
from ragtune.documents.chunkers import Chunker
from ragtune.documents.loaders import LoadError, loader_for
from ragtune.documents.models import Chunk, Document
from ragtune.errors import InputError
from ragtune.index.embedder import Embedder
from ragtune.index.store import Store, StoredDocument

if TYPE_CHECKING:
    import numpy as np


@dataclass
class Skipped:
    path: str
    reason: str


@dataclass
class IngestReport:
    files_seen: int = 0
    files_ingested: int = 0
    files_unchanged: int = 0
    files_removed: int = 0
    chunks_added: int = 0
    chunks_removed: int = 0
    chunks_total: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0
    enrichment: dict[str, dict] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def _matches(rel: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(rel, p) or (p.startswith("**/") and fnmatch.fnmatchcase(rel, p[3:]))
               for p in patterns)


def discover(paths: Iterable[Path], config: DocumentsConfig) -> list[tuple[Path, Path | None]]:
    """Files to consider: (file, the folder it was found under, or None for a file given directly)."""
    found: list[tuple[Path, Path | None]] = []
    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: no such file or directory")
        if not os.access(path, os.R_OK):
            raise InputError(f"{path}: permission denied")
        if path.is_file():
            found.append((path, None))
            continue
        for f in sorted(p for p in path.rglob("*") if p.is_file()):
            rel = f.relative_to(path).as_posix()
            if _matches(rel, config.include) and not _matches(rel, config.exclude):
                found.append((f, path))
    return found


class Enricher(Protocol):
    """Adds chunks at ingest time (e.g. hypothetical questions); ``cost`` is a dataclass of its LLM work."""

    cost: Any

    def expand(self, chunks: list[Chunk]) -> list[Chunk]: ...


class Ingestor:
    """Brings a store in line with the files under the given paths. Documents are embedded in groups of at least
    ``group_chunks`` chunks (one encode call sorts and batches across small documents) and each is stored in its
    own transaction."""

    group_chunks = 256

    def __init__(self, root: Path, config: DocumentsConfig, chunker: Chunker, embedder: Embedder,
                 store: Store, enrichers: dict[str, Enricher] | None = None, context: bool = True) -> None:
        self.root = root.resolve()
        self.context = context  # embed each chunk's context line with its text (index.context)
        self.config = config
        self.chunker = chunker
        self.embedder = embedder
        self.store = store
        self.enrichers = enrichers or {}

    def source_name(self, path: Path) -> str:
        """Paths inside the project are stored relative to it, others absolute."""
        resolved = path.resolve()
        return resolved.relative_to(self.root).as_posix() if resolved.is_relative_to(self.root) else str(resolved)

    def run(self, paths: list[Path], on_file: Callable[[str, int], None] | None = None,
            on_start: Callable[[int], None] | None = None) -> IngestReport:
        t0, report, files, stored = self.begin(paths, on_start)
        pending: list[tuple[Document, list[Chunk]]] = []
        for path, _ in files:
            source = self.source_name(path)
            report.files_seen += 1
            try:
                doc = load_document(path, source, stored[source].sha256 if source in stored else None, self.config)
            except LoadError as e:
                report.skipped.append(Skipped(source, str(e)))  # an unreadable new version keeps the stored one
            else:
                if doc is None:
                    report.files_unchanged += 1
                else:
                    chunks = self.chunker.chunk(doc)
                    for enricher in self.enrichers.values():
                        chunks = enricher.expand(chunks)
                    pending.append((doc, chunks))
                    if sum(len(c) for _, c in pending) >= self.group_chunks:
                        self.write_group(report, pending)
            if on_file:
                on_file(source, report.files_seen)
        self.write_group(report, pending)
        return self.finish(report, paths, files, stored, t0)

    def begin(self, paths: list[Path], on_start: Callable[[int], None] | None
              ) -> tuple[float, IngestReport, list[tuple[Path, Path | None]], Mapping[str, StoredDocument]]:
        """The start time, an empty report, the files to consider (announced to ``on_start``) and what is stored."""
        t0 = time.perf_counter()
        files = discover(paths, self.config)
        if on_start:
            on_start(len(files))
        return t0, IngestReport(), files, self.store.documents()

    def write_group(self, report: IngestReport, pending: list[tuple[Document, list[Chunk]]]) -> None:
        """Embed the chunks of the ``pending`` documents in one call, then ``write`` each; empties ``pending``."""
        texts = [index_texts(chunks, self.context) for _, chunks in pending]
        vectors = self.embedder.embed_cached([t for doc_texts in texts for t in doc_texts], self.store)
        start = 0
        for (doc, chunks), doc_texts in zip(pending, texts, strict=True):
            self.write(report, doc, chunks, vectors[start:start + len(doc_texts)])
            start += len(doc_texts)
        pending.clear()

    def write(self, report: IngestReport, doc: Document, chunks: list[Chunk], vectors: np.ndarray) -> None:
        """Replace the stored version of ``doc`` (one transaction) and count it."""
        report.chunks_removed += self.store.replace_document(doc, chunks, vectors)
        report.chunks_added += len(chunks)
        report.files_ingested += 1

    def finish(self, report: IngestReport, paths: list[Path], files: list[tuple[Path, Path | None]],
               stored: Mapping[str, StoredDocument], t0: float) -> IngestReport:
        """Remove the stored documents under the given folders that are no longer there; total up."""
        kept = {self.source_name(path) for path, _ in files}
        folders = [self.source_name(p) for p in paths if p.is_dir()]
        for source in stored:
            if source not in kept and any(_under(source, folder) for folder in folders):
                report.chunks_removed += self.store.remove_document(source)
                report.files_removed += 1
        report.chunks_total = self.store.count_chunks()
        report.enrichment = {name: asdict(e.cost) for name, e in self.enrichers.items()}
        report.seconds = round(time.perf_counter() - t0, 3)
        return report


def index_texts(chunks: list[Chunk], context: bool) -> list[str]:
    """What the embedder reads of the searchable ``chunks`` (``Chunk.index_text``)."""
    return [c.index_text(context) for c in chunks if c.indexed]


def load_document(path: Path, source: str, stored_sha256: str | None, config: DocumentsConfig) -> Document | None:
    """The document of file ``path`` (stored as ``source``), or None when its content hashes to
    ``stored_sha256`` (that of the stored version); raises LoadError for a file that cannot be indexed."""
    loader = loader_for(path, config.tables)
    if loader is None:
        raise LoadError(f"unsupported file type {path.suffix or '(no suffix)'!r}")
    size = path.stat().st_size
    if size == 0:
        raise LoadError("empty file")
    if size > config.max_file_mb * 1024 * 1024:
        raise LoadError(f"too large ({size / 1e6:.1f} MB > max_file_mb {config.max_file_mb})")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise LoadError(f"cannot read: {e.strerror}") from None
    sha = hashlib.sha256(data).hexdigest()
    if sha == stored_sha256:
        return None
    pages = loader.load(path, data)
    if not any(p.text.strip() for p in pages):
        raise LoadError("no text (empty after extraction)")
    return Document(source=source, title=loader.title(path, pages), sha256=sha, pages=pages,
                    metadata={"format": loader.name, "bytes": size}, paged=loader.paged)


def _under(source: str, folder: str) -> bool:
    return folder in ("", ".") or source == folder or source.startswith(folder.rstrip("/") + "/")
