"""The feedback store: every answer shown and the feedback people or AI judges gave on it.

One SQLite file (``.ragtune/feedback.db``, WAL mode) through SQLAlchemy Core. Every write is one transaction
(``BEGIN IMMEDIATE``, so concurrent writers queue instead of failing), and the ``schema_version`` table lets a
newer ragtune migrate an older file and an older ragtune refuse a newer one. The schema and the import and
export formats are described in docs/feedback.md.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator, model_validator
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Connection,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    create_engine,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import URL
from sqlalchemy.exc import DatabaseError

from ragtune.errors import ConfigError, InputError

SCHEMA_VERSION = 1
Source = Literal["human", "ai"]
KINDS = ("rating", "preference", "ranking", "edit")

_meta = MetaData()
schema_version_table = Table("schema_version", _meta, Column("version", Integer, nullable=False))
answers_table = Table(
    "answers", _meta,
    Column("id", Integer, primary_key=True),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("context", JSON, nullable=False),
    Column("model", Text),
    Column("pipeline", Text),
    Column("details", JSON, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Index("answers_question", "question"),
    Index("answers_created", "created_at"),
    sqlite_autoincrement=True,
)
feedback_table = Table(
    "feedback", _meta,
    Column("id", Integer, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("rating", Text),
    Column("preferred", Text),
    Column("edited_answer", Text),
    Column("comment", Text),
    Column("source", Text, nullable=False),
    Column("judge_model", Text),
    Column("rater", Text),
    Column("created_at", DateTime, nullable=False),
    CheckConstraint("kind IN ('rating', 'preference', 'ranking', 'edit')", name="feedback_kind"),
    CheckConstraint("rating IS NULL OR rating IN ('up', 'down')", name="feedback_rating"),
    CheckConstraint("preferred IS NULL OR preferred IN ('a', 'b', 'tie')", name="feedback_preferred"),
    CheckConstraint("source IN ('human', 'ai')", name="feedback_source"),
    Index("feedback_created", "created_at"),
    sqlite_autoincrement=True,
)
# The answers a feedback is about, in order: the rated or edited answer; A then B; best first.
feedback_answers_table = Table(
    "feedback_answers", _meta,
    Column("feedback_id", Integer, ForeignKey("feedback.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("answer_id", Integer, ForeignKey("answers.id"), nullable=False),
    Index("feedback_answers_answer", "answer_id"),
)

# MIGRATIONS[v] upgrades a version-v database to v+1 inside the opening transaction.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {}


# ---------------------------------------------------------------------------------------------- records

class ContextChunk(BaseModel):
    """A retrieved chunk the answer was generated from (extra keys of ``Answer.chunks`` are ignored)."""

    model_config = ConfigDict(extra="ignore")

    chunk_id: str
    text: str
    source: str | None = None
    page: int | None = None


class StoredAnswer(BaseModel):
    """An answer that was shown, as stored."""

    id: int
    question: str
    answer: str
    context: list[ContextChunk]
    model: str | None
    pipeline: str | None
    details: dict[str, Any]
    created_at: datetime


class _Feedback(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    comment: str | None = None
    source: Source = "human"
    judge_model: str | None = Field(None, description="The judge model; required when source is ai.")
    rater: str | None = Field(None, description="Who gave the feedback (a user name or id), if known.")
    id: int | None = Field(None, description="Set by the store.")
    created_at: datetime | None = Field(None, description="Default: when it is stored.")

    @model_validator(mode="after")
    def _judge(self):
        if self.source == "ai" and not self.judge_model:
            raise ValueError("feedback from an ai source needs judge_model")
        if self.source == "human" and self.judge_model:
            raise ValueError("judge_model is only for source ai")
        return self

    @property
    def answer_ids(self) -> list[int]:
        raise NotImplementedError


class Rating(_Feedback):
    """Thumbs up or down on one answer."""

    kind: Literal["rating"] = "rating"
    answer_id: int
    rating: Literal["up", "down"]

    @property
    def answer_ids(self) -> list[int]:
        return [self.answer_id]


class Preference(_Feedback):
    """Answer A versus answer B to the same question, and which is better."""

    kind: Literal["preference"] = "preference"
    answer_a: int
    answer_b: int
    preferred: Literal["a", "b", "tie"]

    @model_validator(mode="after")
    def _distinct(self):
        if self.answer_a == self.answer_b:
            raise ValueError("a preference compares two different answers")
        return self

    @property
    def answer_ids(self) -> list[int]:
        return [self.answer_a, self.answer_b]


class Ranking(_Feedback):
    """Answers to the same question ordered best first."""

    kind: Literal["ranking"] = "ranking"
    ranked: list[int] = Field(min_length=2, description="Answer ids, best first.")

    @field_validator("ranked")
    @classmethod
    def _unique(cls, v: list[int]) -> list[int]:
        if len(set(v)) != len(v):
            raise ValueError("an answer appears twice in the ranking")
        return v

    @property
    def answer_ids(self) -> list[int]:
        return list(self.ranked)


class Edit(_Feedback):
    """A corrected version of an answer."""

    kind: Literal["edit"] = "edit"
    answer_id: int
    edited_answer: str = Field(min_length=1)

    @property
    def answer_ids(self) -> list[int]:
        return [self.answer_id]


Feedback = Annotated[Rating | Preference | Ranking | Edit, Field(discriminator="kind")]
_FEEDBACK = TypeAdapter(Feedback)


# ---------------------------------------------------------------------------------------------- import rows

class FeedbackRow(BaseModel):
    """One line of an imported JSONL or CSV file. Answers are referenced by stored id (``answer_id``,
    ``answer_a_id``, ``answer_b_id``, ``ranked_ids``) or given as text with the ``question``
    (``answer``, ``answer_a``, ``answer_b``, ``ranked``); text answers are matched to a stored answer with
    the same question and text, or stored as new answers."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    kind: Literal["rating", "preference", "ranking", "edit"]
    question: str | None = None
    model: str | None = None
    answer_id: int | None = None
    answer: str | None = None
    rating: Literal["up", "down"] | None = None
    answer_a_id: int | None = None
    answer_a: str | None = None
    answer_b_id: int | None = None
    answer_b: str | None = None
    preferred: Literal["a", "b", "tie"] | None = None
    ranked_ids: list[int] | None = None
    ranked: list[str] | None = None
    edited_answer: str | None = None
    comment: str | None = None
    source: Source = "human"
    judge_model: str | None = None
    rater: str | None = None
    created_at: datetime | None = None

    @model_validator(mode="after")
    def _complete(self):
        refs = {"rating": [("answer_id", "answer")], "edit": [("answer_id", "answer")],
                "preference": [("answer_a_id", "answer_a"), ("answer_b_id", "answer_b")],
                "ranking": [("ranked_ids", "ranked")]}[self.kind]
        for by_id, by_text in refs:
            given = [f for f in (by_id, by_text) if getattr(self, f) is not None]
            if len(given) != 1:
                raise ValueError(f"a {self.kind} needs exactly one of {by_id} or {by_text}")
            if given[0] == by_text and not (self.question or "").strip():
                raise ValueError(f"{by_text} given as text needs the question")
        needed = {"rating": "rating", "preference": "preferred", "edit": "edited_answer"}.get(self.kind)
        if needed and getattr(self, needed) is None:
            raise ValueError(f"a {self.kind} needs {needed}")
        return self


# ---------------------------------------------------------------------------------------------- the store

def _utc(dt: datetime | None) -> datetime:
    """Naive UTC for storage; a naive input is local time."""
    return (dt or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(tzinfo=None)


def normalize_question(question: str) -> str:
    """Questions that differ only in whitespace are the same question."""
    return " ".join(question.split())


class FeedbackStore:
    """Answers shown and feedback on them, in one SQLite file. Safe for several threads and processes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(URL.create("sqlite", database=str(self.path)), connect_args={"timeout": 60})
        event.listen(self.engine, "connect", _on_connect)
        event.listen(self.engine, "begin", _on_begin)
        self._writer = self.engine.execution_options(ragtune_write=True)
        try:
            with self._writer.begin() as conn:
                self._check_schema(conn)
        except DatabaseError as e:
            self.engine.dispose()
            raise InputError(f"{self.path}: not a readable ragtune feedback store ({e.orig})") from None
        except ConfigError:
            self.engine.dispose()
            raise

    def close(self) -> None:
        self.engine.dispose()

    def _check_schema(self, conn: Connection) -> None:
        tables = set(conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'").scalars())
        if "schema_version" not in tables:
            if tables & {"answers", "feedback", "feedback_answers"}:
                raise ConfigError(f"{self.path}: has feedback tables but no schema_version table")
            _meta.create_all(conn)
            conn.execute(insert(schema_version_table).values(version=SCHEMA_VERSION))
            return
        version = conn.execute(select(schema_version_table.c.version)).scalar_one_or_none()
        if version is None:
            raise ConfigError(f"{self.path}: the schema_version table is empty")
        if version > SCHEMA_VERSION:
            raise ConfigError(f"{self.path}: feedback store schema v{version} is newer than this ragtune supports "
                              f"(v{SCHEMA_VERSION}); upgrade ragtune")
        for v in range(version, SCHEMA_VERSION):
            MIGRATIONS[v](conn)
        if version < SCHEMA_VERSION:
            conn.execute(update(schema_version_table).values(version=SCHEMA_VERSION))

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(schema_version_table.c.version)).scalar_one()

    # answers --------------------------------------------------------------------------------------

    def record_answer(self, question: str, answer: str, context: Sequence[ContextChunk | dict] = (),
                      model: str | None = None, pipeline: str | None = None, details: dict | None = None,
                      created_at: datetime | None = None) -> int:
        """Store an answer that is being shown; returns its id (what feedback refers to)."""
        with self._writer.begin() as conn:
            return self._insert_answer(conn, question, answer, context, model, pipeline, details, created_at)

    def _insert_answer(self, conn: Connection, question: str, answer: str, context: Sequence[ContextChunk | dict],
                       model: str | None, pipeline: str | None, details: dict | None,
                       created_at: datetime | None) -> int:
        if not question.strip():
            raise InputError("the question is empty")
        chunks = [c if isinstance(c, ContextChunk) else ContextChunk.model_validate(c) for c in context]
        result = conn.execute(insert(answers_table).values(
            question=question, answer=answer, context=[c.model_dump() for c in chunks], model=model,
            pipeline=pipeline, details=details or {}, created_at=_utc(created_at)))
        return result.inserted_primary_key[0]

    def answer(self, answer_id: int) -> StoredAnswer:
        found = self.answers(ids=[answer_id])
        if not found:
            raise InputError(f"no answer with id {answer_id} in {self.path}")
        return found[0]

    def answers(self, ids: Iterable[int] | None = None, since: datetime | None = None, after_id: int | None = None,
                limit: int | None = None) -> list[StoredAnswer]:
        """Stored answers in id order: all, the given ids, or those created since a time / after an id."""
        t = answers_table
        query = select(t).order_by(t.c.id)
        if since is not None:
            query = query.where(t.c.created_at >= _utc(since))
        if after_id is not None:
            query = query.where(t.c.id > after_id)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            if ids is None:
                rows = conn.execute(query).mappings().all()
            else:  # in batches: SQLite limits the number of bound parameters
                wanted = sorted(set(ids))
                rows = [r for i in range(0, len(wanted), 10_000)
                        for r in conn.execute(query.where(t.c.id.in_(wanted[i:i + 10_000]))).mappings()]
        return [StoredAnswer(**{**r, "created_at": r["created_at"].replace(tzinfo=timezone.utc)}) for r in rows]

    # feedback -------------------------------------------------------------------------------------

    def add_rating(self, answer_id: int, rating: Literal["up", "down"], **common: Any) -> int:
        """Thumbs up or down. ``common``: comment, source ('human' or 'ai'), judge_model, rater, created_at."""
        return self.add({"kind": "rating", "answer_id": answer_id, "rating": rating, **common})

    def add_preference(self, answer_a: int, answer_b: int, preferred: Literal["a", "b", "tie"], **common: Any) -> int:
        """Which of two answers to the same question is better (or a tie)."""
        return self.add({"kind": "preference", "answer_a": answer_a, "answer_b": answer_b, "preferred": preferred,
                         **common})

    def add_ranking(self, ranked: Sequence[int], **common: Any) -> int:
        """Answers to the same question, best first."""
        return self.add({"kind": "ranking", "ranked": list(ranked), **common})

    def add_edit(self, answer_id: int, edited_answer: str, **common: Any) -> int:
        """A corrected version of an answer."""
        return self.add({"kind": "edit", "answer_id": answer_id, "edited_answer": edited_answer, **common})

    def add(self, feedback: Rating | Preference | Ranking | Edit | dict) -> int:
        """Store one feedback record (a model or its dict form, e.g. a web request body); returns its id.
        Raises InputError for invalid feedback or unknown answers."""
        if isinstance(feedback, dict):
            feedback = _validate(feedback)
        with self._writer.begin() as conn:
            return self._insert_feedback(conn, feedback)

    def _insert_feedback(self, conn: Connection, fb: Rating | Preference | Ranking | Edit) -> int:
        ids = fb.answer_ids
        rows = conn.execute(select(answers_table.c.id, answers_table.c.question)
                            .where(answers_table.c.id.in_(ids))).all()
        missing = sorted(set(ids) - {r.id for r in rows})
        if missing:
            raise InputError(f"no answer with id {', '.join(map(str, missing))} in {self.path}")
        if len({normalize_question(r.question) for r in rows}) > 1:
            raise InputError(f"answers {', '.join(map(str, ids))} answer different questions; a {fb.kind} compares "
                             "answers to the same question")
        fid = conn.execute(insert(feedback_table).values(
            kind=fb.kind, rating=getattr(fb, "rating", None), preferred=getattr(fb, "preferred", None),
            edited_answer=getattr(fb, "edited_answer", None), comment=fb.comment, source=fb.source,
            judge_model=fb.judge_model, rater=fb.rater, created_at=_utc(fb.created_at))).inserted_primary_key[0]
        conn.execute(insert(feedback_answers_table),
                     [{"feedback_id": fid, "position": i, "answer_id": a} for i, a in enumerate(ids)])
        return fid

    def feedback(self, since: datetime | None = None, after_id: int | None = None,
                 kinds: Iterable[str] | None = None, source: Source | None = None) -> list[Feedback]:
        """Feedback records in id order, optionally only those given since a time, after an id, of some kinds
        or from one source."""
        f, fa = feedback_table, feedback_answers_table
        query = select(f).order_by(f.c.id)
        if since is not None:
            query = query.where(f.c.created_at >= _utc(since))
        if after_id is not None:
            query = query.where(f.c.id > after_id)
        if kinds is not None:
            query = query.where(f.c.kind.in_(list(kinds)))
        if source is not None:
            query = query.where(f.c.source == source)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
            links: dict[int, list[int]] = {}
            for fid, aid in conn.execute(select(fa.c.feedback_id, fa.c.answer_id)
                                         .where(fa.c.feedback_id.in_(query.with_only_columns(f.c.id)))
                                         .order_by(fa.c.feedback_id, fa.c.position)):
                links.setdefault(fid, []).append(aid)
        return [_from_row(r, links.get(r["id"], [])) for r in rows]

    def counts(self) -> dict[str, Any]:
        """Numbers of answers and of feedback by kind (ratings split up/down) and by source."""
        f = feedback_table
        with self.engine.connect() as conn:
            n_answers = conn.execute(select(func.count()).select_from(answers_table)).scalar_one()
            grouped = conn.execute(select(f.c.kind, f.c.rating, f.c.source, func.count())
                                   .group_by(f.c.kind, f.c.rating, f.c.source)).all()
            last = conn.execute(select(func.max(f.c.id))).scalar_one()
        by_kind: Counter[str] = Counter({k: 0 for k in ("rating_up", "rating_down", *KINDS[1:])})
        by_source: Counter[str] = Counter({"human": 0, "ai": 0})
        for kind, rating, source, n in grouped:
            by_kind[f"rating_{rating}" if kind == "rating" else kind] += n
            by_source[source] += n
        return {"answers": n_answers, "feedback": sum(by_source.values()), "by_kind": dict(by_kind),
                "by_source": dict(by_source), "last_feedback_id": last}

    # import ---------------------------------------------------------------------------------------

    def import_file(self, path: str | Path) -> dict[str, Any]:
        """Import feedback from a JSONL or CSV file (see docs/feedback.md). The whole file is validated and
        written in one transaction: any bad line raises InputError naming it, and nothing is written."""
        path = Path(path)
        parsed = list(_read_rows(path))
        errors = []
        rows: list[tuple[int, FeedbackRow]] = []
        for line, data in parsed:
            if isinstance(data, str):
                errors.append(f"{path}:{line}: {data}")
                continue
            try:
                rows.append((line, FeedbackRow.model_validate(data)))
            except ValidationError as e:
                errors.append(f"{path}:{line}: {_describe(e)}")
        if not parsed:
            raise InputError(f"{path}: no feedback rows")
        _raise_if(errors)
        created: list[int] = []
        kinds: Counter[str] = Counter()
        with self._writer.begin() as conn:
            cache: dict[tuple[str, str], int] = {}
            for line, row in rows:
                try:
                    fb = self._resolve(conn, row, cache, created, path.name)
                    self._insert_feedback(conn, fb)
                    kinds[row.kind] += 1
                except (InputError, ValidationError) as e:
                    errors.append(f"{path}:{line}: {_describe(e) if isinstance(e, ValidationError) else e}")
            _raise_if(errors)  # raising inside the block rolls the whole file back
        return {"file": str(path), "feedback": len(rows), "by_kind": dict(kinds), "answers_created": len(created)}

    def _resolve(self, conn: Connection, row: FeedbackRow, cache: dict[tuple[str, str], int], created: list[int],
                 file_name: str) -> Rating | Preference | Ranking | Edit:
        def ref(answer_id: int | None, text: str | None) -> int:
            if answer_id is not None:
                return answer_id
            key = (row.question.strip(), text)
            if key not in cache:
                found = conn.execute(select(answers_table.c.id).where(
                    answers_table.c.question == key[0], answers_table.c.answer == text)
                    .order_by(answers_table.c.id).limit(1)).scalar_one_or_none()
                if found is None:
                    found = self._insert_answer(conn, key[0], text, (), row.model, None,
                                                {"imported_from": file_name}, row.created_at)
                    created.append(found)
                cache[key] = found
            return cache[key]

        common = row.model_dump(include={"comment", "source", "judge_model", "rater", "created_at"})
        if row.kind == "rating":
            return Rating(answer_id=ref(row.answer_id, row.answer), rating=row.rating, **common)
        if row.kind == "edit":
            return Edit(answer_id=ref(row.answer_id, row.answer), edited_answer=row.edited_answer, **common)
        if row.kind == "preference":
            return Preference(answer_a=ref(row.answer_a_id, row.answer_a), answer_b=ref(row.answer_b_id, row.answer_b),
                              preferred=row.preferred, **common)
        ranked = row.ranked_ids if row.ranked_ids is not None else [ref(None, t) for t in row.ranked]
        return Ranking(ranked=ranked, **common)


# ---------------------------------------------------------------------------------------------- helpers

def _on_connect(dbapi_conn, _record) -> None:
    dbapi_conn.isolation_level = None  # transactions are begun explicitly in _on_begin
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
        dbapi_conn.execute(f"PRAGMA {pragma}")


def _on_begin(conn: Connection) -> None:
    # Writers take the write lock up front, so two writers queue (busy timeout) instead of deadlocking.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("ragtune_write") else "BEGIN")


def _validate(data: dict) -> Rating | Preference | Ranking | Edit:
    try:
        return _FEEDBACK.validate_python(data)
    except ValidationError as e:
        raise InputError(f"invalid feedback: {_describe(e, union=True)}") from None


def _from_row(row: Any, answer_ids: list[int]) -> Rating | Preference | Ranking | Edit:
    data = {"id": row["id"], "kind": row["kind"], "comment": row["comment"], "source": row["source"],
            "judge_model": row["judge_model"], "rater": row["rater"],
            "created_at": row["created_at"].replace(tzinfo=timezone.utc)}
    if row["kind"] == "rating":
        data.update(answer_id=answer_ids[0], rating=row["rating"])
    elif row["kind"] == "edit":
        data.update(answer_id=answer_ids[0], edited_answer=row["edited_answer"])
    elif row["kind"] == "preference":
        data.update(answer_a=answer_ids[0], answer_b=answer_ids[1], preferred=row["preferred"])
    else:
        data.update(ranked=answer_ids)
    return _FEEDBACK.validate_python(data)


def _describe(error: ValidationError, union: bool = False) -> str:
    """One line; ``union``: the error locations start with the tag of the Feedback union."""
    parts = []
    for e in error.errors():
        loc = ".".join(map(str, e["loc"][1:] if union else e["loc"]))
        msg = e["msg"].removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


def _raise_if(errors: list[str], shown: int = 20) -> None:
    if errors:
        more = f"\n... and {len(errors) - shown} more" if len(errors) > shown else ""
        raise InputError(f"nothing imported; {len(errors)} bad row(s):\n" + "\n".join(errors[:shown]) + more)


_LIST_COLUMNS = ("ranked_ids", "ranked")


def _read_rows(path: Path) -> Iterator[tuple[int, dict | str]]:
    """(line number, row dict or an error message) for each row of a .jsonl or .csv file."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            if suffix in (".jsonl", ".ndjson"):
                for n, text in enumerate(fh, start=1):
                    if text.strip():
                        yield n, _json_object(text)
            elif suffix == ".csv":
                yield from _csv_rows(fh)
            else:
                raise InputError(f"{path}: unknown feedback file type {suffix!r} (use .jsonl or .csv)")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not UTF-8 text ({e})") from None


def _json_object(text: str) -> dict | str:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        return f"not valid JSON ({e.msg})"
    return data if isinstance(data, dict) else "expected a JSON object"


def _csv_rows(fh) -> Iterator[tuple[int, dict | str]]:
    """CSV with a header row; empty cells are absent values; ranked_ids and ranked hold JSON arrays."""
    reader = csv.DictReader(fh)
    start = 2
    for record in reader:
        if None in record:
            yield start, "more cells than header columns"
        else:
            row: dict = {k: v for k, v in record.items() if v not in ("", None)}
            for key in _LIST_COLUMNS:
                if key in row:
                    try:
                        row[key] = json.loads(row[key])
                    except json.JSONDecodeError:
                        yield start, f"{key}: expected a JSON array, like [3, 5, 7] or [\"first\", \"second\"]"
                        break
            else:
                yield start, row
        start = reader.line_num + 1
