"""``TrainingResources``: what the trainers read and write, handed to them explicitly by ``Project``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ragtune.config import LLMConfig
    from ragtune.datasets.config import DatasetsConfig
    from ragtune.evaluation.config import JudgeConfig
    from ragtune.feedback.store import FeedbackStore
    from ragtune.index.embedder import Embedder
    from ragtune.index.store import Store
    from ragtune.llm import LLM
    from ragtune.model_registry import ModelRegistry
    from ragtune.packs import AnswerPack
    from ragtune.retrieval.pipeline import QueryContext
    from ragtune.training.config import TrainingConfig


@dataclass(frozen=True)
class TrainingResources:
    """The project's ``root`` and ``workdir`` (``.ragtune/``: datasets, model versions), its model ``registry``,
    its index (``store`` and ``embedder``, opened on first use by ``open_store`` and ``open_embedder``),
    ``retrieve(question, top_k)`` with the default pipeline (for RAG-mode prompts), ``llm_for(model)`` (None: the
    base LLM; a version id: that fine-tuned version), the ``feedback()`` store, the ``answer_pack()`` (the untuned
    reader's rules), and the settings the trainers read (``llm``, ``training``, ``datasets``, the bench ``judge``)."""

    root: Path
    workdir: Path
    registry: ModelRegistry
    open_store: Callable[[], Store]
    open_embedder: Callable[[], Embedder]
    llm_config: LLMConfig
    training: TrainingConfig
    datasets: DatasetsConfig
    judge: JudgeConfig
    retrieve: Callable[..., QueryContext]
    llm_for: Callable[[str | None], LLM]
    feedback: Callable[[], FeedbackStore]
    answer_pack: Callable[[], AnswerPack]

    @property
    def store(self) -> Store:
        return self.open_store()

    @property
    def embedder(self) -> Embedder:
        return self.open_embedder()
