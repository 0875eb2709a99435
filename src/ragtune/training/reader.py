"""``ragtune tune reader``: the reader's models trained from labelled questions, each promoted only when it beats the
champion on labelled documents held out of its training.

The labelled documents are split once, by a seeded hash of their names: ``test_share`` of them (at least one) are
held out, and no label of theirs is in any training. What the data supports is trained on the others:

- with Yes/No labels, the verdict model of ``tune verdicts`` (its threshold cross-validated over the training
  documents). On each held-out (question, document) pair the candidate and the champion say Yes or No; a right
  verdict scores 1, weighted by the inverse of its label's share, so the mean is the balanced accuracy. With no
  champion, the candidate faces the untuned reader: Yes when a sentence of the document has an embedder cosine to
  the question of at least the answer pack's ``yes_threshold`` (No to all without one); a champion answers the
  questions it does not know the same way.
- with Yes clauses (``contexts``) found in the documents' sentences, the answer-sentence scorer (``answer.scorer``):
  ``tune reranker``'s cross-encoder trained on (question, sentence) pairs of the training documents. Each held-out
  pair scores the reciprocal rank of its best-ranked clause sentence among its document's sentences, as ranked by
  the candidate and by the scorer champion (the embedder's cosine, ``answer.scorer: embedder``, when there is none).

The gate (``gate.decide``) promotes a candidate when the paired bootstrap interval of the difference lies above 0;
otherwise it is registered as rejected."""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ragtune.documents.chunkers.base import sentences
from ragtune.errors import InputError
from ragtune.generation.strategies.selection import MIN_WORDS
from ragtune.generation.verdicts import question_key
from ragtune.training.gate import decide
from ragtune.training.reranker import RerankerTuner
from ragtune.training.verdicts import (
    LabelledPassages,
    OnProgress,
    choose_threshold,
    cross_validated,
    document_scores,
    fit,
    holds,
    labels_file,
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
    seeded hash order of their file names (so that the split is the same wherever the documents are)."""
    order = sorted(range(len(names)), key=lambda d: hashlib.sha256(f"{seed}\0{Path(names[d]).name}".encode())
                   .hexdigest())
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


def document_sentences(data: LabelledPassages, d: int) -> list[str]:
    """The sentences of document ``d``'s passages with at least ``MIN_WORDS`` words, as the extractive reader
    cuts them."""
    passages = [t for t, o in zip(data.texts, data.documents, strict=True) if o == d]
    return [t[a:b] for t in passages for a, b in sentences(t, (0, len(t))) if len(t[a:b].split()) >= MIN_WORDS]


def gold_sentences(data: LabelledPassages, path: Path) -> dict[Pair, np.ndarray]:
    """Per Yes pair whose clause is found, which of its document's sentences hold (part of) the clause."""
    from ragtune.evaluation.questions import QuestionSet

    clauses: dict[tuple[str, str], list[str]] = {}
    for q in QuestionSet.read(path).questions:
        clauses.setdefault((question_key(q.question), q.document or ""), []).extend(
            " ".join(c.split()) for c in q.gold_contexts)
    out: dict[Pair, np.ndarray] = {}
    cut: dict[int, list[str]] = {}
    for k, question in enumerate(data.questions):
        for d, yes in data.answers[k].items():
            if gold := clauses.get((question_key(question), data.names[d])) if yes else None:
                found = np.array([any(holds(s, c) for c in gold)
                                  for s in cut.setdefault(d, document_sentences(data, d))])
                if found.any():
                    out[k, d] = found
    return out


def reciprocal_ranks(scores: dict[Pair, np.ndarray], gold: dict[Pair, np.ndarray], pairs: list[Pair]) -> list[float]:
    """Per pair, 1 / the rank of its best-scored gold sentence."""
    return [1.0 / (1 + int((scores[p] > scores[p][gold[p]].max()).sum())) for p in pairs]


class HeldOutSentences:
    """The sentences of the held-out documents ``docs``; their embedder cosines to every question are computed
    once, on first use, in one batch."""

    def __init__(self, data: LabelledPassages, docs: set[int], embed: Callable[[list[str]], np.ndarray]) -> None:
        self.data = data
        self.texts = {d: document_sentences(data, d) for d in sorted(docs)}
        self.embed = embed

    @cached_property
    def cosines(self) -> dict[Pair, np.ndarray]:
        vectors = self.embed([t for texts in self.texts.values() for t in texts])
        questions = self.embed(self.data.questions)
        ends = np.cumsum([len(t) for t in self.texts.values()])
        return {(k, d): part @ questions[k] for d, part in zip(self.texts, np.split(vectors, ends[:-1]), strict=True)
                for k in range(len(questions))}

    def cross_encoder_scores(self, model: Any, pairs: list[Pair]) -> dict[Pair, np.ndarray]:
        """A cross-encoder's score of each sentence of each pair's document for its question (one batch)."""
        scores = np.asarray(model.predict([(self.data.questions[k], t) for k, d in pairs for t in self.texts[d]],
                                          batch_size=64, show_progress_bar=False), dtype=float)
        ends = np.cumsum([len(self.texts[d]) for _, d in pairs])
        return dict(zip(pairs, np.split(scores, ends[:-1]), strict=True))

    def cosine_verdicts(self, threshold: float | None, pairs: list[Pair]) -> dict[Pair, bool]:
        """The untuned reader's verdicts: Yes when a sentence of the document has an embedder cosine to the
        question of at least ``threshold`` (None: No)."""
        if threshold is None:
            return dict.fromkeys(pairs, False)
        return {p: float(self.cosines[p].max()) >= threshold for p in pairs}


def model_verdicts(model: VerdictModel, data: LabelledPassages, pairs: list[Pair], fallback: dict[Pair, bool]
                   ) -> dict[Pair, bool]:
    """A saved verdict model's Yes/No on ``pairs``; ``fallback`` answers the questions it does not know."""
    said = dict(fallback)
    for k, d in pairs:
        if model.knows(data.questions[k]):
            texts = [t for t, o in zip(data.texts, data.documents, strict=True) if o == d]
            said[k, d] = float(model.scores(data.questions[k], texts).max()) >= model.threshold
    return said


class SentenceScorerTuner(RerankerTuner):
    """``tune reranker``'s cross-encoder, trained on (question, sentence) pairs and registered as the
    answer-sentence ``scorer``."""

    kind = "scorer"


def write_sentence_pairs(folder: Path, data: LabelledPassages, gold: dict[Pair, np.ndarray], docs: set[int]
                         ) -> Path:
    """A BEIR folder of the sentences of ``docs`` (``metadata.document``: their document), one query per question
    with a gold sentence there, and its gold sentences in ``qrels/train.tsv``."""
    import json

    (folder / "qrels").mkdir(parents=True)
    corpus = [{"_id": f"d{d}-s{i}", "text": text, "metadata": {"document": data.names[d]}}
              for d in sorted(docs) for i, text in enumerate(document_sentences(data, d))]
    judged = [(k, f"d{d}-s{i}") for (k, d), found in gold.items() if d in docs for i in np.flatnonzero(found)]
    asked = sorted({k for k, _ in judged})
    (folder / "corpus.jsonl").write_text("".join(json.dumps(r) + "\n" for r in corpus), encoding="utf-8")
    (folder / "queries.jsonl").write_text("".join(json.dumps({"_id": f"q{k}", "text": data.questions[k]}) + "\n"
                                                  for k in asked), encoding="utf-8")
    (folder / "qrels" / "train.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(
        f"q{k}\t{sid}\t1\n" for k, sid in judged), encoding="utf-8")
    return folder


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
        started = time.perf_counter()
        path = labels_file(cfg.questions, "reader")
        data = load_labels(path, self.resources.store)
        if len(data.names) < 3:
            raise InputError(f"{path}: the labels name {len(data.names)} document(s); tune reader needs at least "
                             "three: two to train on (the threshold is cross-validated over them), one held out")
        test = held_out_documents(data.names, cfg.test_share, cfg.seed)
        train = set(range(len(data.names))) - test
        pairs = [(k, d) for k in range(len(data.questions)) for d in sorted(data.answers[k]) if d in test]
        gold = gold_sentences(data, path)
        located = [p for p in pairs if p in gold]
        heldout = {"documents": [data.names[d] for d in sorted(test)], "pairs": len(pairs),
                   "yes": sum(data.answers[k][d] for k, d in pairs), "clauses_located": len(located)}
        result = ReaderTuneResult(data.summary(), heldout)
        held = HeldOutSentences(data, test, self.resources.embedder.embed)
        report = on_progress or (lambda *_: None)
        result.models.append(self.verdicts(data, path, train, pairs, held, report))
        if located and any(d in train for _, d in gold):
            result.models.append(self.scorer(data, gold, train, located, held, report))
        result.seconds = round(time.perf_counter() - started, 2)
        return result

    def verdicts(self, data: LabelledPassages, path: Path, train: set[int], pairs: list[Pair],
                 held: HeldOutSentences, report: OnProgress) -> ReaderModelResult:
        """A verdict model fitted on the ``train`` documents, gated on the balanced accuracy of ``pairs``'
        verdicts against the verdicts champion (the untuned reader when there is none)."""
        from ragtune.generation.verdicts import VerdictModel

        vcfg = self.resources.training.verdicts
        folds = min(vcfg.folds, len(train))
        report("train", 0, folds + 1, {"model": "verdicts"})
        t0 = time.perf_counter()
        scores = cross_validated(data, train, vcfg, lambda i, n: report("train", i, n + 1, {"model": "verdicts"}))
        threshold, evaluation = choose_threshold(scores, data)
        model = fit(data, train, vcfg, threshold)
        seconds = round(time.perf_counter() - t0, 2)
        report("train", folds + 1, folds + 1, {"model": "verdicts"})
        model.metrics = evaluation | {"threshold": threshold, "seconds": seconds}
        champion = self.registry.champion("verdicts")
        with tempfile.TemporaryDirectory(dir=self.resources.workdir) as tmp:
            model.save(Path(tmp) / "verdicts")
            version = self.registry.add(
                "verdicts", Path(tmp) / "verdicts", parent=champion.id if champion else None, metrics=model.metrics,
                data_files={"questions": path},
                config={"reader": self.config.model_dump(mode="json"), "verdicts": vcfg.model_dump(mode="json"),
                        **data.summary()})
        report("evaluate", 0, 1, {"model": "verdicts"})
        said = held.cosine_verdicts(self.resources.answer_pack().config.yes_threshold, pairs)
        if champion is not None:
            said = model_verdicts(VerdictModel.load(self.registry.folder(champion)), data, pairs, said)
        candidate = document_scores(model, data, {d for _, d in pairs})
        before = balanced_scores(said, data, pairs)
        after = balanced_scores({p: candidate[p] >= threshold for p in pairs}, data, pairs)
        report("evaluate", 1, 1, {"model": "verdicts"})
        return self.judge(version, champion.id if champion else UNTUNED, "balanced_accuracy", before, after, seconds,
                          data, train)

    def scorer(self, data: LabelledPassages, gold: dict[Pair, np.ndarray], train: set[int], pairs: list[Pair],
               held: HeldOutSentences, report: OnProgress) -> ReaderModelResult:
        """A sentence cross-encoder (``tune reranker``'s, with its ``training.reranker`` settings) trained on the
        gold sentences of the ``train`` documents, gated on the reciprocal rank of ``pairs``' gold sentences
        against the scorer champion (the embedder's cosine when there is none)."""
        from ragtune.training.reranker import load_cross_encoder

        with tempfile.TemporaryDirectory(dir=self.resources.workdir) as tmp:
            folder = write_sentence_pairs(Path(tmp) / "sentences", data, gold, train)
            config = self.resources.training.reranker.model_copy(update={"dataset": str(folder), "evaluate": False})
            trained = SentenceScorerTuner(self.resources, config).run(on_progress=report)
        report("evaluate", 0, 1, {"model": "scorer"})
        champion = self.registry.champion("scorer")
        if champion is None:
            before = held.cosines
        else:
            before = held.cross_encoder_scores(load_cross_encoder(str(self.registry.folder(champion))), pairs)
        after = held.cross_encoder_scores(load_cross_encoder(str(self.registry.folder(trained.version))), pairs)
        report("evaluate", 1, 1, {"model": "scorer"})
        return self.judge(trained.version, champion.id if champion else "embedder", "sentence_mrr",
                          reciprocal_ranks(before, gold, pairs), reciprocal_ranks(after, gold, pairs),
                          trained.train["seconds"], data, train)

    def judge(self, version: ModelVersion, champion: str, metric: str, before: list[float], after: list[float],
              seconds: float, data: LabelledPassages, train: set[int]) -> ReaderModelResult:
        """The gate on the paired held-out scores; the candidate ``version`` is promoted or rejected, and records
        the decision, the documents it trained on and their labels."""
        cfg = self.config
        gate = decide(metric, before, after, seed=cfg.seed, samples=cfg.bootstrap_samples, level=cfg.level)
        self.registry.update_metrics(version.id, {f"heldout_{metric}": gate.candidate, "gate": gate.to_dict(),
                                                  "trained_on": [data.names[d] for d in sorted(train)],
                                                  "labels": sum(d in train for said in data.answers for d in said)})
        version = self.registry.promote(version.id) if gate.promote else self.registry.reject(version.id)
        return ReaderModelResult(version.kind, version, champion, metric, float(np.mean(before)),
                                 float(np.mean(after)), gate.to_dict(), seconds)
