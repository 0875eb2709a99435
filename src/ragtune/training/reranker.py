"""A cross-encoder reranker trained from the embedder's MiniLM weights (no reranker ships on PyPI): question and
passage are read together by the transformer and scored by ``PairCosine`` (cosine of the two sides' mean-pooled
token vectors, scaled and shifted), so training starts from a model that already ranks like the embedder.
Binary cross-entropy teaches it to score a question with its relevant passage high and with mined negatives
(BM25 and dense top ranks that are not relevant, and random passages) low; positives are weighted by the number
of negatives per positive, so both classes weigh the same. Before training, the bias is set so that the mean
logits of positives and negatives sit on either side of 0."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ragtune.errors import ModelError
from ragtune.training.retrieval import (
    RetrievalData,
    RetrievalTuner,
    bm25_rankings,
    ndcg_at_10,
    quiet_trainer,
    training_args,
)


class RerankerTuner(RetrievalTuner):
    """Trains a new ``reranker`` version; ``rerank`` uses the champion reranker, or ``{name: rerank, model: vN}``
    names one (``ragtune eval retrieval --pipeline hybrid+rerank``)."""

    kind = "reranker"

    def base(self) -> tuple[str, str | None]:
        """A reranker version continues training; anything else (default: the project's embedder) is a
        transformer whose weights start a new cross-encoder."""
        from ragtune.index.embedder import resolve_embedder
        from ragtune.model_registry import is_version_ref
        from ragtune.models import model_dir

        name = self.config.base_model
        if name is None:
            return resolve_embedder(self.resources.embedder.config.model, self.registry)[0], None
        if is_version_ref(name):
            version = self.registry.resolve(name, "reranker")
            return str(self.registry.folder(version)), version.id
        return model_dir(name), None

    def build(self, data: RetrievalData, negatives: dict[str, list[str]], base_dir: str, run_dir: Path
              ) -> tuple[Any, int]:
        import torch
        from datasets import Dataset
        from sentence_transformers import CrossEncoderTrainer, CrossEncoderTrainingArguments
        from sentence_transformers.base.sampler import BatchSamplers
        from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss, MultipleNegativesRankingLoss

        from ragtune.training.embedder import examples

        model = cross_encoder(base_dir, self.config.max_length)
        if self.config.loss == "listwise":
            rows = examples(data, negatives, self.config.negatives)
            loss = MultipleNegativesRankingLoss(model)
            args = CrossEncoderTrainingArguments(**training_args(self.config, run_dir),
                                                 batch_sampler=BatchSamplers.NO_DUPLICATES)
        else:
            rows = labelled_pairs(data, negatives)
            calibrate(model, rows)
            n_neg = sum(r["label"] == 0 for r in rows)
            loss = BinaryCrossEntropyLoss(model, pos_weight=torch.tensor(max(1.0, n_neg / max(1, len(rows) - n_neg))))
            args = CrossEncoderTrainingArguments(**training_args(self.config, run_dir))
        trainer = quiet_trainer(CrossEncoderTrainer)(model=model, args=args, train_dataset=Dataset.from_list(rows),
                                                     loss=loss)
        return trainer, len(rows)

    def score(self, model, data: RetrievalData, split: str, before: bool = False) -> float:
        """nDCG@10 of the top ``candidates`` of BM25 reranked by ``model``; ``before``: of BM25 alone (the
        untrained head's scores mean nothing)."""
        ranking = bm25_rankings(data, split, self.config.candidates)
        if not before:
            ranking = {q: rerank(model, data.queries[q], ranked, data) for q, ranked in ranking.items()}
        return ndcg_at_10(data, split, ranking)


def cross_encoder(base_dir: str, max_length: int):
    """The CrossEncoder to train: a saved cross-encoder as it is, else a new one on ``base_dir``'s transformer
    with the ``PairCosine`` head."""
    import json

    from sentence_transformers import CrossEncoder
    from sentence_transformers.base.modules import Transformer

    from ragtune.training.pair_cosine import PairCosine

    settings = Path(base_dir) / "config_sentence_transformers.json"
    if settings.is_file() and json.loads(settings.read_text(encoding="utf-8")).get("model_type") == "CrossEncoder":
        return load_cross_encoder(base_dir, max_length)
    transformer = Transformer(base_dir, max_seq_length=max_length, config_kwargs={"num_labels": 1})
    return CrossEncoder(modules=[transformer, PairCosine()], device="cpu")


def load_cross_encoder(path: str, max_length: int | None = None):
    """A saved CrossEncoder; ragtune's own ``PairCosine`` head is imported from the installed package (the only
    code outside sentence-transformers it allows)."""
    import json

    from sentence_transformers import CrossEncoder

    modules = Path(path) / "modules.json"
    types = [m["type"] for m in json.loads(modules.read_text(encoding="utf-8"))] if modules.is_file() else []
    ours = any(t.startswith("ragtune.") for t in types)
    if ours and not all(t.startswith(("ragtune.", "sentence_transformers.")) for t in types):
        raise ModelError(f"{path}: modules.json names code outside ragtune and sentence-transformers")
    return CrossEncoder(path, max_length=max_length, device="cpu", trust_remote_code=ours)


def calibrate(model, rows: list[dict[str, Any]], sample: int = 64) -> None:
    """Set the PairCosine bias so the mean logits of a sample of positive and negative rows straddle 0."""
    import random

    import torch

    head = model[-1]
    if type(head).__name__ != "PairCosine":
        return
    rng = random.Random(0)
    means = []
    for label in (1, 0):
        picked = [r for r in rows if r["label"] == label]
        picked = rng.sample(picked, min(sample, len(picked)))
        logits = model.predict([(r["query"], r["passage"]) for r in picked], activation_fn=torch.nn.Identity(),
                               show_progress_bar=False)
        means.append(float(logits.mean()) if len(picked) else 0.0)
    with torch.no_grad():
        head.bias -= sum(means) / 2


def labelled_pairs(data: RetrievalData, negatives: dict[str, list[str]]) -> list[dict[str, Any]]:
    """(question, passage, label) rows: 1 for each relevant passage, 0 for each mined negative."""
    rows = [{"query": data.queries[q], "passage": data.passages[p], "label": 1} for q, p in data.positives("train")]
    rows += [{"query": data.queries[q], "passage": data.passages[p], "label": 0}
             for q, mined in negatives.items() for p in mined]
    return rows


def rerank(model, question: str, ranked: list[str], data: RetrievalData) -> list[str]:
    scores = model.predict([(question, data.passages[p]) for p in ranked], show_progress_bar=False)
    return [ranked[i] for i in sorted(range(len(ranked)), key=lambda i: -float(scores[i]))]
