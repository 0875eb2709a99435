"""Domain adaptation of the dense embedder (sentence-transformers): MultipleNegativesRankingLoss over
(question, relevant passage, hard negative...) rows, so each question learns its passage against the batch's other
passages (in-batch negatives) and against passages BM25 or the dense model rank high but that are not relevant.
Batches never hold the same text twice (a question with two passages, a passage of two questions), which would
make a true positive an in-batch negative."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ragtune.training.retrieval import (
    RetrievalData,
    RetrievalTuner,
    dense_rankings,
    ndcg_at_10,
    quiet_trainer,
    training_args,
)


class EmbedderTuner(RetrievalTuner):
    """Trains a new ``embedder`` version from the project's embedder (or ``base_model``); select it with
    ``embedder.model: vN`` (or ``champion`` once promoted) in ragtune.yaml, which re-embeds the index."""

    kind = "embedder"

    def base(self) -> tuple[str, str | None]:
        from ragtune.index.embedder import resolve_embedder
        from ragtune.model_registry import is_version_ref

        name = self.config.base_model or self.resources.embedder.config.model
        folder, _ = resolve_embedder(name, self.registry)
        return folder, self.registry.resolve(name, "embedder").id if is_version_ref(name) else None

    def build(self, data: RetrievalData, negatives: dict[str, list[str]], base_dir: str, run_dir: Path
              ) -> tuple[Any, int]:
        from datasets import Dataset
        from sentence_transformers import (
            SentenceTransformer,
            SentenceTransformerTrainer,
            SentenceTransformerTrainingArguments,
        )
        from sentence_transformers.base.sampler import BatchSamplers
        from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

        model = SentenceTransformer(base_dir, device="cpu")
        model.max_seq_length = self.config.max_length
        rows = examples(data, negatives, self.config.negatives)
        args = SentenceTransformerTrainingArguments(**training_args(self.config, run_dir),
                                                   batch_sampler=BatchSamplers.NO_DUPLICATES)
        trainer = quiet_trainer(SentenceTransformerTrainer)(
            model=model, args=args, train_dataset=Dataset.from_list(rows), loss=MultipleNegativesRankingLoss(model))
        return trainer, len(rows)

    def score(self, model, data: RetrievalData, split: str, before: bool = False) -> float:
        return ndcg_at_10(data, split, dense_rankings(model, data, split, 100))


def examples(data: RetrievalData, negatives: dict[str, list[str]], n: int) -> list[dict[str, str]]:
    """One row per (question, relevant passage): anchor, positive and ``n`` hard negatives (a question with
    several passages spreads its mined negatives over its rows). Every row has as many negatives as the
    shortest, since the loss needs equal columns."""
    seen: dict[str, int] = {}
    rows = []
    for q, p in data.positives("train"):
        mined = negatives.get(q, [])
        j = seen.get(q, 0)
        seen[q] = j + 1
        picked = (mined[j * n:] + mined[: j * n])[:n]
        rows.append({"anchor": data.queries[q], "positive": data.passages[p],
                     **{f"negative_{i + 1}": data.passages[x] for i, x in enumerate(picked)}})
    width = min(len(r) for r in rows)
    return [dict(list(r.items())[:width]) for r in rows]

