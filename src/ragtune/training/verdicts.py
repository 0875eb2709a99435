"""``ragtune tune verdicts``: yes/no verdict models (``ragtune.generation.verdicts``) from human-labelled questions.

The labels say, per (question, document), Yes or No, and for Yes the clause. The passages of the project's index
that hold a Yes clause are the positives of that question; every other passage of a labelled document is a
negative (a Yes document whose clause is found in no passage trains nothing for that question, but still counts
in the evaluation). Cross-validation over documents gives each document a score it was not trained on, for every
question it is labelled for: one threshold, shared by all questions, is the one with the best balanced accuracy on
those scores, and their AUC and balanced accuracy are reported. The model saved is then fitted on all documents.
On CUAD (docs/benchmarking.md) this is what lifts yes/no balanced accuracy over the sentence scorer's cosine."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ragtune.errors import InputError
from ragtune.generation.answer_forms import parse_yes_no
from ragtune.generation.verdicts import VerdictModel, question_key, vectorizer
from ragtune.index.store import glob_escape

if TYPE_CHECKING:
    from ragtune.index.store import Store
    from ragtune.model_registry import ModelVersion
    from ragtune.training.config import VerdictTuneConfig
    from ragtune.training.resources import TrainingResources

OnProgress = Callable[[str, int, int | None, dict[str, Any]], None]


def _norm(text: str) -> str:
    return " ".join(text.split())


def holds(passage: str, clause: str) -> bool:
    """Whether a passage holds (part of) a clause: the one contains the other's start, or the clause's end."""
    return clause[:100] in passage or passage[:100] in clause or (len(clause) > 60 and clause[-60:] in passage)


@dataclass
class LabelledPassages:
    """The passages of the labelled documents (``documents[i]``: the index of passage i's document in ``names``)
    and, per question, the documents' answers and which passages hold its clause (None: the question trains
    nothing on that document)."""

    texts: list[str]
    documents: np.ndarray
    names: list[str]
    questions: list[str]
    answers: list[dict[int, bool]]
    clauses: list[dict[int, np.ndarray | None]]
    left_out: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        said = [a for answers in self.answers for a in answers.values()]
        return {"questions": len(self.questions), "documents": len(self.names), "passages": len(self.texts),
                "labels": len(said), "yes": sum(said), "no": len(said) - sum(said), **self.left_out}


def verdict_label(record: dict[str, Any]) -> bool | None:
    """A row's Yes/No: its ``label``, else its ``answer``, when either is one word of Yes or No."""
    for value in (record.get("label"), record.get("answer")):
        if value and len(str(value).split()) == 1 and (said := parse_yes_no(str(value))) is not None:
            return said
    return None


def labels_file(questions: str | None, command: str) -> Path:
    """The labelled-questions file of ``tune <command>`` (``training.<command>.questions``), relative to the working
    folder; InputError when none is given."""
    if not questions:
        raise InputError(f"tune {command} needs the labelled questions: --questions FILE "
                         f"(or training.{command}.questions in ragtune.yaml)")
    path = Path(questions).expanduser()
    return path if path.is_absolute() else Path.cwd() / path


def load_labels(path: Path, store: Store) -> LabelledPassages:
    """The labelled rows of ``path`` and the indexed passages of the documents they name."""
    from ragtune.evaluation.questions import QuestionSet

    rows = QuestionSet.read(path).questions
    left_out = {"not_yes_no": 0, "no_document": 0, "document_not_indexed": 0, "clause_not_found": 0}
    documents: dict[str, list[str]] = {}
    labelled = []
    for q in rows:
        said = verdict_label({"label": q.label, "answer": q.answer})
        if said is None:
            left_out["not_yes_no"] += 1
        elif not q.document:
            left_out["no_document"] += 1
        else:
            if q.document not in documents:
                documents[q.document] = sorted(store.matching_ids({"source": f"*{glob_escape(q.document)}"}))
            if documents[q.document]:
                labelled.append((q, said))
            else:
                left_out["document_not_indexed"] += 1
    if not labelled:
        missing = [d for d, ids in documents.items() if not ids][:3]
        hint = (f"; not in the index: {', '.join(missing)} (ingest them first)" if missing else
                "; rows need a `document` and a `label` (or `answer`) of Yes or No")
        raise InputError(f"{path}: no row to train a verdict on ({len(rows)} rows{hint})")
    names = sorted({q.document for q, _ in labelled})
    index = {name: d for d, name in enumerate(names)}
    texts, owner = [], []
    for d, name in enumerate(names):
        chunks = store.chunks(documents[name])
        texts += [_norm(c.text) for c in chunks]
        owner += [d] * len(chunks)
    doc_of = np.array(owner)
    questions: list[str] = []
    keys: dict[str, int] = {}
    answers: list[dict[int, bool]] = []
    clauses: list[dict[int, np.ndarray | None]] = []
    for q, said in labelled:
        k = keys.setdefault(question_key(q.question), len(questions))
        if k == len(questions):
            questions.append(q.question)
            answers.append({})
            clauses.append({})
        d = index[q.document]
        answers[k][d] = said
        mine = doc_of == d
        if not said:
            clauses[k][d] = np.zeros(int(mine.sum()), bool)
            continue
        found = np.array([any(holds(t, _norm(c)) for c in q.gold_contexts) for t, m in zip(texts, mine, strict=True)
                          if m])
        clauses[k][d] = found if found.any() else None
        left_out["clause_not_found"] += not found.any()
    return LabelledPassages(texts, doc_of, names, questions, answers, clauses,
                            {k: v for k, v in left_out.items() if v})


def fit(data: LabelledPassages, docs: set[int], cfg: VerdictTuneConfig, threshold: float = 0.0) -> VerdictModel:
    """One logistic regression per question on the passages of ``docs``."""
    from scipy.sparse import vstack
    from sklearn.linear_model import LogisticRegression

    use = np.isin(data.documents, sorted(docs))
    vec = vectorizer(min_df=min(cfg.min_df, int(use.sum())))
    x = vec.fit_transform([t for t, u in zip(data.texts, use, strict=True) if u])
    weights = np.zeros((len(data.questions), x.shape[1]), np.float32)
    intercepts = np.zeros(len(data.questions))
    for k, question in enumerate(data.questions):
        rows, labels = [], []
        for d, holding in data.clauses[k].items():
            if d in docs and holding is not None:
                rows.append(np.flatnonzero(data.documents[use] == d))
                labels.append(holding)
        if not rows:
            continue
        y = np.concatenate(labels)
        n, pos = len(y), int(y.sum())
        sample_weight = np.where(y, n / (2 * max(pos, 1)), n / (2 * max(n - pos, 1)))
        features = vstack([x[np.concatenate(rows)], vec.transform([question])])
        targets = np.concatenate([y, [True]])
        model = LogisticRegression(C=cfg.inverse_regularization, max_iter=3000)
        model.fit(features, targets, sample_weight=np.concatenate([sample_weight, [cfg.question_weight * n / 2]]))
        weights[k], intercepts[k] = model.coef_[0], model.intercept_[0]
    return VerdictModel(list(data.questions), dict(vec.vocabulary_), vec.idf_, weights, intercepts, threshold, {})


def document_scores(model: VerdictModel, data: LabelledPassages, docs: set[int]) -> dict[tuple[int, int], float]:
    """(question, document) -> the document's best passage score, for the labelled pairs of ``docs``."""
    use = np.isin(data.documents, sorted(docs))
    owner = data.documents[use]
    features = model.features([t for t, u in zip(data.texts, use, strict=True) if u])
    out = {}
    for k in range(len(data.questions)):
        scores = np.asarray(features @ model.weights[k]).ravel() + model.intercepts[k]
        for d in data.answers[k]:
            if d in docs:
                out[k, d] = float(scores[owner == d].max())
    return out


def cross_validated(data: LabelledPassages, docs: set[int], cfg: VerdictTuneConfig,
                    on_fold: Callable[[int, int], None] | None = None) -> dict[tuple[int, int], float]:
    """Every labelled (question, document) of ``docs`` scored by a model that did not train on the document."""
    ordered = sorted(docs)
    folds = [ordered[i::min(cfg.folds, len(ordered))] for i in range(min(cfg.folds, len(ordered)))]
    out: dict[tuple[int, int], float] = {}
    for i, held in enumerate(folds):
        out |= document_scores(fit(data, docs - set(held), cfg), data, set(held))
        if on_fold:
            on_fold(i + 1, len(folds))
    return out


def balanced_accuracy(said_yes: np.ndarray, yes: np.ndarray) -> float:
    """Mean of the recall of Yes and of No (answering No to all scores 0.5)."""
    parts = [float(said_yes[yes].mean())] if yes.any() else []
    parts += [float((~said_yes[~yes]).mean())] if (~yes).any() else []
    return float(np.mean(parts))


def auc(scores: np.ndarray, yes: np.ndarray) -> float | None:
    if not yes.any() or yes.all():
        return None
    pos, neg = scores[yes][:, None], scores[~yes][None, :]
    return float(np.mean(pos > neg) + 0.5 * np.mean(pos == neg))


def choose_threshold(scores: dict[tuple[int, int], float], data: LabelledPassages) -> tuple[float, dict[str, Any]]:
    """The shared threshold with the best balanced accuracy on ``scores``, and the AUC and accuracy there."""
    keys = list(scores)
    s = np.array([scores[k] for k in keys])
    yes = np.array([data.answers[q][d] for q, d in keys])
    threshold = max(np.unique(s), key=lambda t: balanced_accuracy(s >= t, yes))
    said = s >= threshold
    return float(threshold), {"cv_auc": auc(s, yes), "cv_balanced_accuracy": balanced_accuracy(said, yes),
                              "cv_pairs": len(keys)}


@dataclass
class VerdictTuneResult:
    version: ModelVersion
    data: dict[str, Any]
    evaluation: dict[str, Any]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version.model_dump(mode="json"), "data": self.data, "evaluation": self.evaluation,
                "seconds": self.seconds}


class VerdictTuner:
    """Trains, cross-validates and registers a verdict model (kind ``verdicts``) from ``config.questions``."""

    def __init__(self, resources: TrainingResources, config: VerdictTuneConfig) -> None:
        self.resources = resources
        self.config = config

    def run(self, on_progress: OnProgress | None = None) -> VerdictTuneResult:
        cfg = self.config
        started = time.perf_counter()
        path = labels_file(cfg.questions, "verdicts")
        data = load_labels(path, self.resources.store)
        docs = set(range(len(data.names)))
        if len(docs) < 2:
            raise InputError(f"{path}: the labels name one document; cross-validation needs at least two")
        report = on_progress or (lambda *_: None)
        report("train", 0, min(cfg.folds, len(docs)) + 1, {})
        t0 = time.perf_counter()
        scores = cross_validated(data, docs, cfg, lambda i, n: report("train", i, n + 1, {}))
        threshold, evaluation = choose_threshold(scores, data)
        model = fit(data, docs, cfg, threshold)
        report("train", min(cfg.folds, len(docs)) + 1, min(cfg.folds, len(docs)) + 1, {})
        model.metrics = evaluation | {"threshold": threshold, "seconds": round(time.perf_counter() - t0, 2),
                                      "labels": data.summary()["labels"]}
        with tempfile.TemporaryDirectory(dir=self.resources.workdir) as tmp:
            staging = Path(tmp) / "verdicts"
            model.save(staging)
            version = self.resources.registry.add(
                "verdicts", staging, metrics=model.metrics, data_files={"questions": path},
                config={"verdicts": cfg.model_dump(mode="json"), **data.summary()})
        return VerdictTuneResult(version, data.summary(), evaluation, round(time.perf_counter() - started, 2))
