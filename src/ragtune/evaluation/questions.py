"""The frozen question set of a benchmark: loaded from CSV/JSONL (or the held-out synthetic split),
identified by the sha256 of its canonical form, and checked against training data for overlap."""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.errors import InputError

if TYPE_CHECKING:
    from ragtune.index.embedder import Embedder
    from ragtune.index.store import Store

_TRUE = {"1", "true", "yes", "y"}


@dataclass
class Question:
    """A question with its reference answer. ``unanswerable`` questions should be refused (an empty
    reference marks them too); ``gold_contexts`` are evidence passages, when known. ``document`` names the
    document the question is about (a file name: RAG arms search it alone); ``label`` is a short categorical
    answer (Yes/No, a date, names) that ``answer_check`` prefers to the reference."""

    id: str
    question: str
    answer: str
    unanswerable: bool = False
    gold_contexts: list[str] = field(default_factory=list)
    document: str | None = None
    label: str | None = None

    def canonical(self) -> list:
        row = [self.question, self.answer, self.unanswerable, self.gold_contexts]
        return row + [self.document or "", self.label or ""] if self.document or self.label else row

    def to_dict(self) -> dict:
        """The record ``QuestionSet.from_records`` reads back (gold evidence as ``contexts``)."""
        row = asdict(self)
        row["contexts"] = row.pop("gold_contexts")
        return row


def content_id(question: str, answer: str) -> str:
    return hashlib.sha256(f"{question}\0{answer}".encode()).hexdigest()[:12]


@dataclass
class QuestionSet:
    questions: list[Question]
    source: str

    @property
    def sha256(self) -> str:
        """Hash of the canonical set: each question as [question, answer, unanswerable, gold contexts] (plus
        [document, label] when it has them), sorted, as compact JSON. Row order, ids and extra columns do not
        change it; any text does."""
        rows = sorted(q.canonical() for q in self.questions)
        canonical = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def limit(self, n: int | None) -> QuestionSet:
        return self if n is None else QuestionSet(self.questions[:n], self.source)

    @classmethod
    def from_records(cls, records: list[dict[str, Any]], source: str) -> QuestionSet:
        """Records with ``question`` and ``answer`` (any case); optional ``id``, ``unanswerable``, gold
        evidence as ``contexts`` (a list, or a JSON list in CSV) or ``context`` (one passage), ``document`` and
        ``label``."""
        from ragtune.generation.answer import is_refusal

        out, seen = [], set()
        for i, raw in enumerate(records, start=1):
            rec = {str(k).strip().lower(): v for k, v in raw.items()}
            question = str(rec.get("question") or "").strip()
            if not question or "answer" not in rec:
                raise InputError(f"{source}: record {i} needs a non-empty 'question' and an 'answer' column")
            answer = str(rec.get("answer") or "").strip()
            flag = rec.get("unanswerable")
            unanswerable = (str(flag).strip().lower() in _TRUE) if flag not in (None, "") else is_refusal(answer)
            qid = str(rec.get("id") or "").strip() or content_id(question, answer)
            if qid in seen:
                raise InputError(f"{source}: record {i} repeats question id {qid!r} (duplicate question?)")
            seen.add(qid)
            out.append(Question(qid, question, "" if unanswerable else answer, unanswerable,
                                _gold_contexts(rec, source, i), str(rec.get("document") or "").strip() or None,
                                str(rec.get("label") or "").strip() or None))
        if not out:
            raise InputError(f"{source}: no questions")
        return cls(out, source)

    @classmethod
    def read(cls, path: Path) -> QuestionSet:
        """A CSV (header row), JSONL (one object a line) or JSON (a list of objects) file."""
        if not path.is_file():
            raise InputError(f"{path}: no such questions file")
        suffix = path.suffix.lower()
        try:
            text = path.read_text(encoding="utf-8-sig")
            if suffix == ".csv":
                records = list(csv.DictReader(text.splitlines()))
            elif suffix == ".jsonl":
                records = [json.loads(line) for line in text.splitlines() if line.strip()]
            elif suffix == ".json":
                records = json.loads(text)
            else:
                raise InputError(f"{path}: expected a .csv, .jsonl or .json questions file")
        except (UnicodeDecodeError, json.JSONDecodeError, csv.Error) as e:
            raise InputError(f"{path}: not readable as {suffix[1:].upper()}: {e}") from None
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise InputError(f"{path}: expected a list of records")
        return cls.from_records(records, str(path))

    def write_jsonl(self, path: Path) -> None:
        path.write_text("".join(json.dumps(q.to_dict(), ensure_ascii=False) + "\n" for q in self.questions),
                        encoding="utf-8")


def _gold_contexts(rec: dict[str, Any], source: str, i: int) -> list[str]:
    value = rec.get("contexts")
    if value in (None, ""):
        single = rec.get("context")
        return [str(single)] if single not in (None, "") else []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            value = [value]
    if not isinstance(value, list):
        raise InputError(f"{source}: record {i}: 'contexts' must be a list of passages")
    return [str(v) for v in value if str(v).strip()]


def load_questions(workdir: Path, store: Store, path: Path | None = None) -> QuestionSet:
    """``path`` (CSV/JSONL/JSON), or by default the held-out test split of ``ragtune data synth``, whose
    source chunks become the gold contexts."""
    if path is not None:
        return QuestionSet.read(path)
    from ragtune.datasets import load_split

    rows = load_split(workdir, name="synth", split="test")
    records = []
    for row in rows:
        chunks = store.chunks(row.get("chunk_ids") or [])
        records.append({"id": row["id"], "question": row["question"], "answer": row["answer"],
                        "unanswerable": row.get("type") == "unanswerable" or None,
                        "contexts": [c.text for c in chunks]})
    return QuestionSet.from_records(records, "synth dataset (test split)")


def qa_text(question: str, answer: str) -> str:
    """A question with its answer, as the overlap check compares them."""
    return f"{question}\n{answer}"


def training_pairs(workdir: Path, files: list[Path]) -> list[str]:
    """Question-answer texts (``qa_text``) of ``files`` and of the train split of every dataset in the project."""
    from ragtune.datasets.io import datasets_dir

    out = []
    for path in sorted({p.resolve() for p in (*datasets_dir(workdir).glob("*/train.jsonl"), *files)}):
        with path.open(encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
        out.extend(qa_text(r["question"], str(r.get("answer") or "")) for r in rows)
    return out


def check_overlap(workdir: Path, embedder: Embedder, threshold: float, questions: QuestionSet,
                  training_files: list[Path]) -> dict[str, Any]:
    """Whether any question with its reference answer is a near-duplicate of a training pair
    (``datasets.split.leakage_threshold``): the project's datasets and ``training_files`` (what the benchmarked
    models were trained on). Pairs are compared, not questions alone, because benchmark questions about
    documents share long document names with unrelated training questions. An overlap is an error, because a
    benchmark on training data measures memory, not the approach."""
    from ragtune.datasets.leakage import check_leakage

    train = training_pairs(workdir, training_files)
    if not train:
        return {"checked": False, "reason": "the project has no training data"}
    report = check_leakage(train, [qa_text(q.question, q.answer) for q in questions.questions], embedder,
                           threshold)
    if not report.ok:
        shown = "; ".join(f"{t!r} ~ {r!r}" for t, r in report.questions[:3])
        raise InputError(f"{report.n_leaked} benchmark question(s) are near-duplicates (cosine >= {threshold}) of "
                         f"training pairs (question and answer): {shown}. Remove them, or retrain without them.")
    return {"checked": True, "n_train": report.n_train, "threshold": threshold,
            "max_similarity": round(report.max_similarity, 4), "n_leaked": 0, "compared": "question and answer"}
