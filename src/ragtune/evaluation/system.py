"""``BenchSystem``: the system a benchmark measures, and what the benchmark reads of it, handed over explicitly.

``Project.bench_system`` builds one; every arm answers through its ``ask`` and ``llm_for``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ragtune.config import LLMConfig, RetrievalConfig, ScaleConfig
    from ragtune.datasets.config import DatasetsConfig
    from ragtune.documents.chunkers import ChunkerConfig
    from ragtune.evaluation.config import BenchConfig
    from ragtune.generation.answer import Answer
    from ragtune.generation.config import AnswerConfig
    from ragtune.index.embedder import Embedder
    from ragtune.index.store import Store
    from ragtune.llm import LLM
    from ragtune.model_registry import ModelRegistry
    from ragtune.retrieval.pipeline import Pipeline


@dataclass(frozen=True)
class BenchSystem:
    """The project under test: ``root`` and ``workdir`` (its ``.ragtune/``: datasets, bench runs), its index
    (``store`` and ``embedder``, opened on first use by ``open_store`` and ``open_embedder``), model ``registry``
    and settings; ``ask(question, **options)`` is a cited RAG answer
    (options: filters, pipeline, strategy, model), ``llm_for(model)`` the base (None) or a fine-tuned LLM and
    ``pipeline(spec)`` a retrieval pipeline (for fingerprints). ``scale`` says where questions are answered;
    ``reopen(threads)`` (picklable) opens the same system in another process, its LLM on ``threads`` threads
    unless ``llm.threads`` is set."""

    root: Path
    workdir: Path
    open_store: Callable[[], Store]
    open_embedder: Callable[[], Embedder]
    registry: ModelRegistry
    bench: BenchConfig
    datasets: DatasetsConfig
    llm_config: LLMConfig
    answer: AnswerConfig
    retrieval: RetrievalConfig
    chunker: ChunkerConfig
    sft_system_prompt: str
    ask: Callable[..., Answer]
    llm_for: Callable[[str | None], LLM]
    pipeline: Callable[[str | None], Pipeline]
    scale: ScaleConfig
    reopen: Callable[[int | None], BenchSystem]

    @property
    def store(self) -> Store:
        return self.open_store()

    @property
    def embedder(self) -> Embedder:
        return self.open_embedder()

    def settings_fingerprint(self) -> dict[str, Any]:
        """The settings that determine a RAG answer besides the pipeline and the strategy."""
        return {"llm": self.llm_config.model_dump(mode="json"), "answer": self.answer.model_dump(mode="json"),
                "retrieval": self.retrieval.model_dump(mode="json"), "chunker": self.chunker.model_dump(mode="json"),
                "embedder": self.embedder.config.model}
