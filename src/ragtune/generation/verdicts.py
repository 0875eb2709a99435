"""Yes/no verdicts learned from labelled documents (``ragtune tune verdicts``).

For each question it was trained on, a ``VerdictModel`` holds a logistic regression over the tf-idf words of a
passage (does this passage hold the clause the question asks about?). A document's answer is "Yes" when its best
passage scores at least ``threshold``, which training chose by cross-validation over documents. The
``VerdictReader`` reads every indexed passage of the document the retrieved passages come from, so the verdict
does not depend on retrieval having found the clause. Questions match by their words (case and punctuation
aside); other questions keep the answer pack's ``yes_threshold``."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ragtune.errors import InputError
from ragtune.index.store import glob_escape

if TYPE_CHECKING:
    from scipy.sparse import spmatrix

    from ragtune.documents.models import Chunk
    from ragtune.index.store import Store

MODEL_FILE, WEIGHTS_FILE = "verdicts.json", "weights.npy"
_WORD = re.compile(r"\w+")


def question_key(question: str) -> str:
    """How a question is matched to a trained one: its lower-cased words."""
    return " ".join(_WORD.findall(question.lower()))


def vectorizer(vocabulary: dict[str, int] | None = None, min_df: int = 1):
    """The tf-idf featuriser of passages (sublinear term frequency, English stopwords out, L2-normalised); fixed
    to ``vocabulary`` when given, else to be fitted."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(vocabulary=vocabulary, min_df=min_df, sublinear_tf=True, stop_words="english")


@dataclass
class VerdictModel:
    """Per trained question (``questions``, by ``question_key``), a row of ``weights`` and an ``intercept`` over
    the tf-idf features of ``vocabulary`` (with its ``idf``); ``metrics`` are training's cross-validated numbers."""

    questions: list[str]
    vocabulary: dict[str, int]
    idf: np.ndarray
    weights: np.ndarray
    intercepts: np.ndarray
    threshold: float
    metrics: dict[str, Any]

    def __post_init__(self) -> None:
        self._rows = {question_key(q): i for i, q in enumerate(self.questions)}
        self._vectorizer = vectorizer(self.vocabulary)
        self._vectorizer.idf_ = self.idf

    def knows(self, question: str) -> bool:
        return question_key(question) in self._rows

    def features(self, texts: list[str]) -> spmatrix:
        return self._vectorizer.transform(texts)

    def scores(self, question: str, texts: list[str]) -> np.ndarray:
        """The score of each passage for a trained ``question`` (a logit: at least ``threshold`` reads Yes)."""
        row = self._rows[question_key(question)]
        return np.asarray(self.features(texts) @ self.weights[row]).ravel() + self.intercepts[row]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / WEIGHTS_FILE, self.weights.astype(np.float32))
        meta = {"questions": self.questions, "threshold": self.threshold, "intercepts": self.intercepts.tolist(),
                "vocabulary": sorted(self.vocabulary, key=self.vocabulary.__getitem__), "idf": self.idf.tolist(),
                "metrics": self.metrics}
        (folder / MODEL_FILE).write_text(json.dumps(meta, ensure_ascii=False) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, folder: str | Path) -> VerdictModel:
        folder = Path(folder)
        try:
            meta = json.loads((folder / MODEL_FILE).read_text(encoding="utf-8"))
            weights = np.load(folder / WEIGHTS_FILE)
            words = meta["vocabulary"]
            model = cls(list(meta["questions"]), {w: i for i, w in enumerate(words)}, np.asarray(meta["idf"]),
                        weights, np.asarray(meta["intercepts"]), float(meta["threshold"]), meta.get("metrics", {}))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise InputError(f"{folder}: not a verdict model written by `ragtune tune verdicts` ({e})") from None
        if weights.shape != (len(model.questions), len(words)):
            raise InputError(f"{folder}: {WEIGHTS_FILE} has shape {weights.shape}, expected "
                             f"{(len(model.questions), len(words))}")
        return model


class VerdictReader:
    """Answers the yes/no questions ``model`` was trained on from every indexed passage of a document."""

    def __init__(self, model: VerdictModel, store: Store) -> None:
        self.model = model
        self.store = store

    def verdict(self, question: str, chunks: list[Chunk]) -> str | None:
        """"Yes" or "No" for the document of the first retrieved passage; None when the question is not one the
        model knows (or nothing was retrieved)."""
        if not chunks or not self.model.knows(question):
            return None
        ids = sorted(self.store.matching_ids({"source": glob_escape(chunks[0].doc_source)}))
        texts = [c.text for c in self.store.chunks(ids)] or [c.text for c in chunks]
        return "Yes" if float(self.model.scores(question, texts).max()) >= self.model.threshold else "No"
