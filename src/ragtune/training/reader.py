"""``ragtune tune reader``: the reader's models trained from labelled questions, each promoted only when it beats the
champion on labelled documents held out of its training.

The labelled documents are split once, by a seeded hash of their names: ``test_share`` of them (at least one) are
held out, and no label of theirs is in any training. What the data supports is trained on the others: with Yes/No
labels, the verdict model of ``tune verdicts`` (its threshold cross-validated over the training documents). On the
held-out (question, document) pairs the candidate and the champion each say Yes or No; a pair scores 1 when the
verdict is right, weighted by the inverse of its label's share, so the mean is the balanced accuracy. The gate
(``gate.decide``) promotes the candidate when the paired bootstrap interval of the difference lies above 0;
otherwise it is registered as rejected. With no champion, the candidate faces the untuned reader: Yes when a
sentence of the document has an embedder cosine to the question of at least the answer pack's ``yes_threshold``
(No to all without one); a champion answers the questions it does not know the same way."""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ragtune.documents.chunkers.base import sentences
from ragtune.errors import InputError
from ragtune.generation.strategies.selection import MIN_WORDS
from ragtune.training.gate import decide
from ragtune.training.verdicts import (
    LabelledPassages,
    OnProgress,
    choose_threshold,
    cross_validated,
    document_scores,
    fit,
    load_labels,
)

if TYPE_CHECKING:
    from ragtune.generation.verdicts import VerdictModel
    from ragtune.model_registry import ModelVersion
    from ragtune.training.config import ReaderTuneConfig
    from ragtune.training.resources import TrainingResources

UNTUNED = "untuned"
Pair = tuple[int, int]  # (question, document) of a LabelledPassages


def held_out_documents(names: list[str], share: float, seed: int, keep: int = 2) -> set[int]:
    """The indexes of the ``share`` of ``names`` (at least one, at most all but ``keep``) that come first in a
    seeded hash order."""
    order = sorted(range(len(names)), key=lambda d: hashlib.sha256(f"{seed}\0{names[d]}".encode()).hexdigest())
    return set(order[: min(max(1, round(share * len(names))), len(names) - keep)])


def balanced_scores(said: dict[Pair, bool], data: LabelledPassages, pairs: list[Pair]) -> list[float]:
    """Per pair, 1 for a right verdict weighted by ``n / (2 * pairs with its label)``: their mean is the balanced
    accuracy (the accuracy when one label is missing)."""
    yes = np.array([data.answers[k][d] for k, d in pairs])
    n, n_yes = len(pairs), int(yes.sum())
    both = 0 < n_yes < n
    weights = np.where(yes, n / (2 * max(n_yes, 1)), n / (2 * max(n - n_yes, 1))) if both else np.ones(n)
    right = np.array([said[p] == y for p, y in zip(pairs, yes, strict=True)])
    return [float(w * r) for w, r in zip(weights, right, strict=True)]


class CosineVerdicts:
    """The untuned reader's verdict: Yes when a sentence of the document has an embedder cosine to the question of
    at least ``threshold`` (None: No). Sentence vectors are computed once per document."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray], threshold: float | None,
                 data: LabelledPassages) -> None:
        self.embed = embed
        self.threshold = threshold
        self.data = data
        self._best: dict[Pair, float] = {}

    def say(self, pairs: list[Pair]) -> dict[Pair, bool]:
        if self.threshold is None:
            return dict.fromkeys(pairs, False)
        for d in sorted({d for _, d in pairs}):
            passages = [t for t, o in zip(self.data.texts, self.data.documents, strict=True) if o == d]
            texts = [t[a:b] for t in passages for a, b in sentences(t, (0, len(t))) if len(t[a:b].split()) >= MIN_WORDS]
            vectors = self.embed(texts)
            questions = sorted({k for k, e in pairs if e == d})
            cosines = self.embed([self.data.questions[k] for k in questions]) @ vectors.T
            self._best |= {(k, d): float(row.max()) for k, row in zip(questions, cosines, strict=True)}
        return {p: self._best[p] >= self.threshold for p in pairs}


def model_verdicts(model: VerdictModel, data: LabelledPassages, pairs: list[Pair], fallback: CosineVerdicts
                   ) -> dict[Pair, bool]:
    """A saved verdict model's Yes/No on ``pairs``; the ``fallback`` answers the questions it does not know."""
    known = [p for p in pairs if model.knows(data.questions[p[0]])]
    said = fallback.say([p for p in pairs if p not in set(known)])
    for k, d in known:
        texts = [t for t, o in zip(data.texts, data.documents, strict=True) if o == d]
        said[k, d] = float(model.scores(data.questions[k], texts).max()) >= model.threshold
    return said


@dataclass
class ReaderModelResult:
    """One reader model's candidate: ``before`` is the champion's (or the untuned reader's) held-out metric,
    ``after`` the candidate's."""

    model: str
    version: ModelVersion
    champion: str
    metric: str
    before: float
    after: float
    gate: dict[str, Any]
    train_seconds: float

    @property
    def decision(self) -> str:
        return "promoted" if self.gate["promote"] else "rejected"

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "version": self.version.model_dump(mode="json"), "champion": self.champion,
                "metric": self.metric, "before": self.before, "after": self.after, "decision": self.decision,
                "gate": self.gate, "train_seconds": self.train_seconds}


@dataclass
class ReaderTuneResult:
    data: dict[str, Any]
    heldout: dict[str, Any]
    models: list[ReaderModelResult] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"data": self.data, "heldout": self.heldout, "models": [m.to_dict() for m in self.models],
                "seconds": self.seconds}


class ReaderTuner:
    """Trains the reader models ``config.questions`` supports, gates each on held-out documents against its
    champion, and registers it promoted or rejected."""

    def __init__(self, resources: TrainingResources, config: ReaderTuneConfig) -> None:
        self.resources = resources
        self.config = config
        self.registry = resources.registry

    def run(self, on_progress: OnProgress | None = None) -> ReaderTuneResult:
        cfg = self.config
        if not cfg.questions:
            raise InputError("tune reader needs the labelled questions: --questions FILE "
                             "(or training.reader.questions in ragtune.yaml)")
        started = time.perf_counter()
        path = Path(cfg.questions).expanduser()
        path = path if path.is_absolute() else Path.cwd() / path
        data = load_labels(path, self.resources.store)
        if len(data.names) < 3:
            raise InputError(f"{path}: the labels name {len(data.names)} document(s); tune reader needs at least "
                             "three: two to train on (the threshold is cross-validated over them), one held out")
        test = held_out_documents(data.names, cfg.test_share, cfg.seed)
        pairs = [(k, d) for k in range(len(data.questions)) for d in sorted(data.answers[k]) if d in test]
        heldout = {"documents": [data.names[d] for d in sorted(test)], "pairs": len(pairs),
                   "yes": sum(data.answers[k][d] for k, d in pairs)}
        result = ReaderTuneResult(data.summary(), heldout)
        result.models.append(self.verdicts(data, path, set(range(len(data.names))) - test, pairs,
                                           on_progress or (lambda *_: None)))
        result.seconds = round(time.perf_counter() - started, 2)
        return result

    def verdicts(self, data: LabelledPassages, path: Path, train: set[int], pairs: list[Pair],
                 report: OnProgress) -> ReaderModelResult:
        """A verdict model fitted on the ``train`` documents, gated on ``pairs`` against the verdicts champion."""
        from ragtune.generation.verdicts import VerdictModel

        cfg, vcfg = self.config, self.resources.training.verdicts
        folds = min(vcfg.folds, len(train))
        report("train", 0, folds + 1, {"model": "verdicts"})
        t0 = time.perf_counter()
        scores = cross_validated(data, train, vcfg, lambda i, n: report("train", i, n + 1, {"model": "verdicts"}))
        threshold, evaluation = choose_threshold(scores, data)
        model = fit(data, train, vcfg, threshold)
        seconds = round(time.perf_counter() - t0, 2)
        report("train", folds + 1, folds + 1, {"model": "verdicts"})
        report("evaluate", 0, 2, {"model": "verdicts"})
        untuned = CosineVerdicts(self.resources.embedder.embed, self.resources.answer_pack().config.yes_threshold,
                                 data)
        champion = self.registry.champion("verdicts")
        said = untuned.say(pairs) if champion is None else model_verdicts(
            VerdictModel.load(self.registry.folder(champion)), data, pairs, untuned)
        candidate = document_scores(model, data, {d for _, d in pairs})
        before = balanced_scores(said, data, pairs)
        after = balanced_scores({p: candidate[p] >= threshold for p in pairs}, data, pairs)
        report("evaluate", 2, 2, {"model": "verdicts"})
        gate = decide("balanced_accuracy", before, after, seed=cfg.seed, samples=cfg.bootstrap_samples,
                      level=cfg.level)
        model.metrics = evaluation | {"threshold": threshold, "heldout_balanced_accuracy": gate.candidate,
                                      "gate": gate.to_dict()}
        with tempfile.TemporaryDirectory(dir=self.resources.workdir) as tmp:
            staging = Path(tmp) / "verdicts"
            model.save(staging)
            version = self.registry.add(
                "verdicts", staging, parent=champion.id if champion else None, metrics=model.metrics,
                data_files={"questions": path},
                config={"reader": cfg.model_dump(mode="json"), "verdicts": vcfg.model_dump(mode="json"),
                        "trained_on": [data.names[d] for d in sorted(train)], **data.summary()})
        version = self.registry.promote(version.id) if gate.promote else self.registry.reject(version.id)
        return ReaderModelResult("verdicts", version, champion.id if champion else UNTUNED, "balanced_accuracy",
                                 float(np.mean(before)), float(np.mean(after)), gate.to_dict(), seconds)
