"""``Project``: the Python API the CLI mirrors — init, ingest, retrieve, ask."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from functools import cached_property
from pathlib import Path

from ragtune.config import CONFIG_FILE, ProjectConfig
from ragtune.errors import ConfigError, InputError

WORKDIR = ".ragtune"


class Project:
    """A folder with ``ragtune.yaml``; everything ragtune produces lives under its ``.ragtune/``."""

    def __init__(self, root: str | Path = ".") -> None:
        self.root = Path(root).resolve()
        self.config_path = self.root / CONFIG_FILE
        self.config = ProjectConfig.load(self.config_path)
        self.workdir = self.root / WORKDIR

    @classmethod
    def init(cls, root: str | Path, name: str | None = None, force: bool = False) -> Project:
        """Create ``root/ragtune.yaml`` with the defaults (refuses to overwrite unless ``force``)."""
        root = Path(root)
        path = root / CONFIG_FILE
        if path.exists() and not force:
            raise ConfigError(f"{path} already exists (use --force to overwrite)")
        root.mkdir(parents=True, exist_ok=True)
        config = ProjectConfig(name=name or root.resolve().name)
        path.write_text(f"# ragtune project configuration; see docs/configuration.md\n{config.dump()}",
                        encoding="utf-8")
        (root / WORKDIR).mkdir(exist_ok=True)
        return cls(root)

    # components, built on first use so that commands import only what they need
    @cached_property
    def store(self):
        from ragtune.index.sqlite_store import SQLiteStore

        return SQLiteStore(self.workdir / "index.db", self.config.embedder.model)

    @cached_property
    def embedder(self):
        from ragtune.index.embedder import Embedder

        return Embedder(self.config.embedder)

    @cached_property
    def bm25(self):
        from ragtune.index.bm25 import BM25Index

        return BM25Index(self.workdir / "bm25")

    @cached_property
    def chunker(self):
        from ragtune.documents.chunkers import chunkers
        from ragtune.documents.tokenizer import token_counter_for

        cfg = self.config.chunker
        return chunkers.get(cfg.name)(cfg, token_counter_for(self.embedder.path))

    @cached_property
    def retriever(self):
        from ragtune.retrieval.hybrid import HybridRetriever

        return HybridRetriever(self.config.retrieval, self.store, self.bm25, self.embedder)

    @cached_property
    def llm(self):
        from ragtune.generation.llms import load_llm

        return load_llm(self.config.llm)

    def ingest(self, paths: list[str | Path], rebuild: bool = False,
               on_start: Callable[[int], None] | None = None,
               on_file: Callable[[str, int], None] | None = None):
        """Index files and folders; returns an IngestReport (skipped files are listed, not raised)."""
        from ragtune.documents.ingest import Ingestor

        resolved = [Path(p) if Path(p).is_absolute() else Path.cwd() / p for p in paths]
        if not resolved:
            raise InputError("nothing to ingest: give at least one file or folder")
        if rebuild:
            self.close()
            for name in ("index.db", "index.db-wal", "index.db-shm", "bm25"):
                target = self.workdir / name
                shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
            self.__dict__.pop("store", None)
        report = Ingestor(self.root, self.config.documents, self.chunker, self.embedder, self.store).run(
            resolved, on_file=on_file, on_start=on_start)
        self.bm25.sync(self.store)
        return report

    def retrieve(self, question: str, top_k: int | None = None, filters: dict | None = None):
        return self.retriever.retrieve(question, top_k, filters)

    def ask(self, question: str, top_k: int | None = None, filters: dict | None = None,
            on_token: Callable[[str], None] | None = None):
        """Retrieve, generate a grounded answer, and cite the chunks it uses."""
        from ragtune.generation.answer import finish_answer
        from ragtune.generation.pricing import generation_cost
        from ragtune.generation.prompts import grounded_messages

        if not question.strip():
            raise InputError("the question is empty")
        if self.store.count_chunks() == 0:
            raise InputError(f"the index of {self.root} is empty: run `ragtune ingest PATH` first")
        t0 = time.perf_counter()
        found = self.retrieve(question, top_k, filters)
        stages = {"retrieve_s": round(time.perf_counter() - t0, 4)}
        relevant = found.hits and (found.best_similarity or 0.0) >= self.config.retrieval.min_relevance
        gen, cost = None, 0.0
        if relevant:
            gen = self.llm.generate(grounded_messages(question, [h.chunk for h in found.hits]), on_token=on_token)
            stages["generate_s"] = round(gen.latency_s, 4)
            cost = generation_cost(self.config.prices, gen)
        return finish_answer(question, found.hits, gen, round(cost, 8), stages)

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
