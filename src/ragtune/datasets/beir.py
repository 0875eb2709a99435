"""BEIR-format retrieval data: ``corpus.jsonl`` ({_id, title, text}), ``queries.jsonl`` ({_id, text}) and
``qrels/<split>.tsv`` (header ``query-id corpus-id score``). ragtune adds one optional file for span-level
evaluation: ``spans.jsonl`` ({query-id, document, start, end}, gold character spans in source documents),
which needs corpus records with ``metadata: {document, start}`` (where each passage sits in its document)."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragtune.errors import InputError

QRELS_HEADER = ["query-id", "corpus-id", "score"]


@dataclass
class CorpusDoc:
    """One corpus record. ``document``/``start``: where the passage sits in a source document (optional)."""

    id: str
    title: str
    text: str
    document: str | None = None
    start: int | None = None


@dataclass
class GoldSpan:
    document: str
    start: int
    end: int


@dataclass
class BeirDataset:
    """A BEIR folder loaded for one split: only queries that have relevance judgements in it."""

    path: Path
    split: str
    corpus: dict[str, CorpusDoc]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    spans: dict[str, list[GoldSpan]] = field(default_factory=dict)
    skipped_qrels: int = 0

    @property
    def corpus_file(self) -> Path:
        return self.path / "corpus.jsonl"


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, record) for each non-empty line; bad JSON raises InputError naming file and line."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    with path.open(encoding="utf-8") as f:
        for i, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise InputError(f"{path} line {i}: invalid JSON ({e.msg})") from None
            if not isinstance(record, dict):
                raise InputError(f"{path} line {i}: expected a JSON object")
            yield i, record


def _field(record: dict, key: str, path: Path, line: int, kind: type = str) -> Any:
    value = record.get(key)
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind is str and isinstance(value, str | int) and not isinstance(value, bool) and str(value) != "":
        return str(value)
    raise InputError(f"{path} line {line}: missing or invalid {key!r}")


def load_corpus(path: Path) -> dict[str, CorpusDoc]:
    corpus: dict[str, CorpusDoc] = {}
    for line, r in read_jsonl(path):
        doc_id = _field(r, "_id", path, line)
        if doc_id in corpus:
            raise InputError(f"{path} line {line}: duplicate _id {doc_id!r}")
        title, text = r.get("title") or "", r.get("text") or ""
        if not isinstance(title, str) or not isinstance(text, str) or not (title.strip() or text.strip()):
            raise InputError(f"{path} line {line}: 'title' and 'text' must be strings, not both empty")
        meta = r.get("metadata") if isinstance(r.get("metadata"), dict) else {}
        document, start = meta.get("document"), meta.get("start")
        corpus[doc_id] = CorpusDoc(doc_id, title, text, str(document) if document is not None else None,
                                   start if isinstance(start, int) else None)
    if not corpus:
        raise InputError(f"{path}: no documents")
    return corpus


def load_queries(path: Path) -> dict[str, str]:
    return {_field(r, "_id", path, line): _field(r, "text", path, line) for line, r in read_jsonl(path)}


def load_qrels(path: Path) -> dict[str, dict[str, int]]:
    if not path.is_file():
        folder = path.parent
        found = sorted(p.name for p in folder.glob("*.tsv")) if folder.is_dir() else []
        hint = f"; found: {', '.join(found)}" if found else ""
        raise InputError(f"{path}: no such file (a BEIR folder has qrels/<split>.tsv{hint})")
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for i, row in enumerate(csv.reader(f, delimiter="\t"), start=1):
            if not row or not "".join(row).strip():
                continue
            if i == 1 and [c.strip().lower() for c in row] == QRELS_HEADER:
                continue
            if len(row) != 3:
                raise InputError(f"{path} line {i}: expected 3 tab-separated columns "
                                 f"(query-id, corpus-id, score), got {len(row)}")
            try:
                score = int(float(row[2]))
            except ValueError:
                raise InputError(f"{path} line {i}: score {row[2]!r} is not a number") from None
            qrels.setdefault(row[0].strip(), {})[row[1].strip()] = score
    return qrels


def load_spans(path: Path) -> dict[str, list[GoldSpan]]:
    spans: dict[str, list[GoldSpan]] = {}
    for line, r in read_jsonl(path):
        start, end = _field(r, "start", path, line, int), _field(r, "end", path, line, int)
        if not 0 <= start < end:
            raise InputError(f"{path} line {line}: need 0 <= start < end")
        spans.setdefault(_field(r, "query-id", path, line), []).append(
            GoldSpan(_field(r, "document", path, line), start, end))
    return spans


def load_beir(path: str | Path, split: str = "test") -> BeirDataset:
    """Load a BEIR folder; queries without a positive judgement in ``split`` are left out."""
    path = Path(path)
    if not path.is_dir():
        raise InputError(f"{path}: no such folder (expected a BEIR folder with corpus.jsonl, queries.jsonl, "
                         "qrels/<split>.tsv)")
    qrels_all = load_qrels(path / "qrels" / f"{split}.tsv")
    corpus = load_corpus(path / "corpus.jsonl")
    queries = load_queries(path / "queries.jsonl")
    qrels, skipped = {}, 0
    for qid, judged in qrels_all.items():
        known = {d: s for d, s in judged.items() if d in corpus}
        skipped += len(judged) - len(known)
        if qid in queries and any(s > 0 for s in known.values()):
            qrels[qid] = known
    if not qrels:
        raise InputError(f"{path / 'qrels' / f'{split}.tsv'}: no judged query is in queries.jsonl with a relevant "
                         "document in corpus.jsonl")
    spans = {}
    if (path / "spans.jsonl").is_file():
        spans = {q: s for q, s in load_spans(path / "spans.jsonl").items() if q in qrels}
        missing = [d.id for d in corpus.values() if d.document is None or d.start is None]
        if spans and missing:
            raise InputError(f"{path / 'corpus.jsonl'}: spans.jsonl needs metadata.document and metadata.start in "
                             f"every record; {missing[0]!r} has none")
    ordered = {q: queries[q] for q in queries if q in qrels}
    return BeirDataset(path, split, corpus, ordered, {q: qrels[q] for q in ordered}, spans, skipped)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def write_qrels(path: Path, qrels: dict[str, dict[str, int]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(QRELS_HEADER)
        for qid, judged in qrels.items():
            for doc_id, score in judged.items():
                w.writerow([qid, doc_id, score])
