"""The feedback store: every answer shown and the feedback people or AI judges gave on it.

One SQLite file (``.ragtune/feedback.db``, WAL mode) through SQLAlchemy Core. Every write is one transaction
(``BEGIN IMMEDIATE``, so concurrent writers queue instead of failing). The schema and the import and export
formats are described in docs/feedback.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy import Connection, String, case, cast, create_engine, event, func, insert, inspect, literal, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError

from ragtune.errors import ConfigError, InputError
from ragtune.feedback import schema
from ragtune.feedback.io import raise_if_errors, read_rows
from ragtune.feedback.records import (
    FEEDBACK_ADAPTER,
    KINDS,
    ContextChunk,
    Edit,
    Feedback,
    FeedbackRow,
    Preference,
    Ranking,
    Rating,
    Source,
    StoredAnswer,
    describe_error,
    normalize_question,
    validate_feedback,
)
from ragtune.feedback.schema import (
    answers_table,
    comparisons_table,
    feedback_answers_table,
    feedback_table,
    schema_version_table,
)


def _utc(dt: datetime | None) -> datetime:
    """Naive UTC for storage; a naive input is local time."""
    return (dt or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(tzinfo=None)


class FeedbackStore:
    """Answers shown and feedback on them, in one SQLite file (or a PostgreSQL database: a ``postgresql://`` URL).
    Safe for several threads and processes."""

    def __init__(self, path: str | Path) -> None:
        url = _url(path)
        self.url = url.render_as_string(hide_password=True)
        if url.get_backend_name() == "sqlite":
            self.path = Path(url.database)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(url, connect_args={"timeout": 60})
            event.listen(self.engine, "connect", _on_connect)
            event.listen(self.engine, "begin", _on_begin)
        elif url.get_backend_name() == "postgresql":
            self.path = self.url  # named in messages
            try:
                self.engine = create_engine(url.set(drivername="postgresql+psycopg"), pool_pre_ping=True)
            except ModuleNotFoundError:
                raise ConfigError("feedback.url: a postgresql:// URL needs psycopg (pip install 'psycopg[binary]', "
                                  "part of ragtune[serve])") from None
        else:
            raise ConfigError(f"feedback.url {self.url!r}: use a sqlite:/// or postgresql:// URL")
        self._writer = self.engine.execution_options(ragtune_write=True)
        try:
            with self._writer.begin() as conn:
                self._check_schema(conn)
        except (DatabaseError, OperationalError) as e:
            self.engine.dispose()
            raise InputError(f"{self.path}: not a readable ragtune feedback store ({e.orig})") from None
        except ConfigError:
            self.engine.dispose()
            raise

    def close(self) -> None:
        self.engine.dispose()

    def _check_schema(self, conn: Connection) -> None:
        """Create a new database, or migrate an older one to ``schema.HEAD`` (Alembic), in this transaction; refuse
        one that a newer ragtune made."""
        tables = set(inspect(conn).get_table_names())
        legacy = None
        if "schema_version" not in tables:
            if tables & {"answers", "feedback", "feedback_answers"}:
                raise ConfigError(f"{self.path}: has feedback tables but no schema_version table")
        else:
            version = conn.execute(select(schema_version_table.c.version)).scalar_one_or_none()
            if version is None:
                raise ConfigError(f"{self.path}: the schema_version table is empty")
            if version > schema.SCHEMA_VERSION:
                raise ConfigError(f"{self.path}: feedback store schema v{version} is newer than this ragtune "
                                  f"supports (v{schema.SCHEMA_VERSION}); upgrade ragtune")
            if "alembic_version" not in tables:
                legacy = f"{version:04d}"  # made before the migrations were Alembic's: revision N is version N
        if "alembic_version" in tables and legacy is None:
            current = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one_or_none()
            if current == schema.HEAD:
                return
        from ragtune.feedback.migrate import upgrade

        upgrade(conn, stamp=legacy)

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
            feedback = validate_feedback(feedback)
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

    def version(self) -> tuple[int, int]:
        """The newest answer id and feedback id: the store only grows, so a figure computed from the whole store
        holds while these stay the same."""
        with self.engine.connect() as conn:
            return (conn.execute(select(func.coalesce(func.max(answers_table.c.id), 0))).scalar_one(),
                    conn.execute(select(func.coalesce(func.max(feedback_table.c.id), 0))).scalar_one())

    # aggregates for the review queue and the dashboard (computed in SQL) ---------------------------

    def review_flags(self, recent_answers: int = 5000) -> dict[int, list[str]]:
        """answer id -> why it waits for people: each AI thumbs down, each AI preference it lost, and (among the
        ``recent_answers`` newest answers) the sentences the citation check could not support."""
        f, fa, t = feedback_table, feedback_answers_table, answers_table
        downs = _selected("ai_downs", f.c.source == "ai", f.c.kind == "rating", f.c.rating == "down")
        down = (select(fa.c.answer_id, downs.c.judge_model, literal("thumbs down").label("what"),
                       func.count().label("n"), func.min(downs.c.id).label("first"))
                .select_from(downs.join(fa, fa.c.feedback_id == downs.c.id))
                .group_by(fa.c.answer_id, downs.c.judge_model))
        prefs = _selected("ai_preferences", f.c.source == "ai", f.c.kind == "preference",
                          f.c.preferred.in_(["a", "b"]))
        loser = case((prefs.c.preferred == "a", 1), else_=0)
        lost = (select(fa.c.answer_id, prefs.c.judge_model, literal("lost a comparison").label("what"),
                       func.count().label("n"), func.min(prefs.c.id).label("first"))
                .select_from(prefs.join(fa, (fa.c.feedback_id == prefs.c.id) & (fa.c.position == loser)))
                .group_by(fa.c.answer_id, prefs.c.judge_model))
        flags: dict[int, list[str]] = {}
        with self.engine.connect() as conn:
            judged = conn.execute(down.union_all(lost).order_by("first")).all()
            newest = select(t.c.id).order_by(t.c.id.desc()).limit(recent_answers).subquery()
            oldest = select(func.min(newest.c.id)).scalar_subquery()
            length = self._json_length(conn, "unsupported")
            unsupported = conn.execute(select(t.c.id, length).where(t.c.id >= oldest, length > 0)
                                       .order_by(t.c.id)).all() if recent_answers > 0 else []
        for aid, judge, what, n, _ in judged:
            flags.setdefault(aid, []).extend([f"AI judge {judge}: {what}"] * n)
        for aid, n in unsupported:
            flags.setdefault(aid, []).append(f"citation check: {n} unsupported sentence(s)")
        return flags

    def _json_length(self, conn: Connection, key: str):
        """The length of the list ``answers.details[key]`` in SQL (NULL when absent)."""
        details = answers_table.c.details
        if conn.dialect.name == "postgresql":
            return func.json_array_length(details.op("->")(key))
        return func.json_array_length(details, f"$.{key}")

    @staticmethod
    def _latest_human_votes():
        """(answer_id, rater, fid, rating): the latest human thumbs of each rater on each answer (a rating without
        a rater counts as its own rater)."""
        f, fa = feedback_table, feedback_answers_table
        rater = func.coalesce(f.c.rater, literal("anonymous-").concat(cast(f.c.id, String)))
        votes = _selected("human_votes", f.c.kind == "rating", f.c.source == "human", columns=[rater.label("rater")])
        latest = (select(fa.c.answer_id, votes.c.rater, func.max(votes.c.id).label("fid"))
                  .select_from(votes.join(fa, fa.c.feedback_id == votes.c.id))
                  .group_by(fa.c.answer_id, votes.c.rater).subquery("latest"))
        return latest

    def reviewers(self, answer_ids: Iterable[int] | None = None) -> dict[int, list[str]]:
        """answer id -> the people who gave it a thumbs, for all answers or the given ones."""
        latest = self._latest_human_votes()
        found: dict[int, list[str]] = {}
        wanted = None if answer_ids is None else set(answer_ids)
        with self.engine.connect() as conn:
            for aid, rater in conn.execute(select(latest.c.answer_id, latest.c.rater)):
                if wanted is None or aid in wanted:
                    found.setdefault(aid, []).append(rater)
        return {aid: sorted(raters) for aid, raters in found.items()}

    def vote_agreement(self) -> dict[str, Counter[tuple[str, str]]]:
        """Counts of label pairs, from each person's latest thumbs: ``annotators`` (every two people on one
        answer, as a sorted pair) and ``judge_votes`` ((human majority, latest AI thumbs) on each answer that has
        both and no tie among people)."""
        f, fa = feedback_table, feedback_answers_table
        latest = self._latest_human_votes()
        ups = func.sum(case((f.c.rating == "up", 1), else_=0))
        per_answer = (select(latest.c.answer_id, ups.label("ups"), func.count().label("n"))
                      .select_from(latest.join(f, f.c.id == latest.c.fid)).group_by(latest.c.answer_id)
                      .cte("per_answer").prefix_with("MATERIALIZED"))
        u, d = per_answer.c.ups, per_answer.c.n - per_answer.c.ups
        ai_votes = _selected("ai_votes", f.c.kind == "rating", f.c.source == "ai")
        ai_latest = (select(fa.c.answer_id, func.max(ai_votes.c.id).label("fid"))
                     .select_from(ai_votes.join(fa, fa.c.feedback_id == ai_votes.c.id))
                     .group_by(fa.c.answer_id).subquery("ai_latest"))
        ai = f.alias("ai")
        majority = case((u > d, "up"), else_="down")
        with self.engine.connect() as conn:
            uu, dd, ud = conn.execute(select(func.sum(u * (u - 1) // 2), func.sum(d * (d - 1) // 2),
                                             func.sum(u * d))).one()
            judged = conn.execute(
                select(majority, ai.c.rating, func.count())
                .select_from(per_answer.join(ai_latest, ai_latest.c.answer_id == per_answer.c.answer_id)
                             .join(ai, ai.c.id == ai_latest.c.fid))
                .where(u != d).group_by(majority, ai.c.rating)).all()
        pairs = Counter({("down", "down"): dd or 0, ("down", "up"): ud or 0, ("up", "up"): uu or 0})
        return {"annotators": +pairs, "judge_votes": Counter({(h, a): n for h, a, n in judged})}

    def preference_tally(self, source: Source = "human") -> list[tuple[Any, ...]]:
        """(model_a, pipeline_a, model_b, pipeline_b, preferred, n): preferences grouped by what made each side."""
        f, fa = feedback_table, feedback_answers_table
        side_a, side_b = fa.alias("side_a"), fa.alias("side_b")
        a, b = answers_table.alias("a"), answers_table.alias("b")
        query = (select(a.c.model, a.c.pipeline, b.c.model, b.c.pipeline, f.c.preferred, func.count())
                 .select_from(f.join(side_a, (side_a.c.feedback_id == f.c.id) & (side_a.c.position == 0))
                              .join(side_b, (side_b.c.feedback_id == f.c.id) & (side_b.c.position == 1))
                              .join(a, a.c.id == side_a.c.answer_id).join(b, b.c.id == side_b.c.answer_id))
                 .where(f.c.kind == "preference", f.c.source == source)
                 .group_by(a.c.model, a.c.pipeline, b.c.model, b.c.pipeline, f.c.preferred))
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(query)]

    # blind comparisons ----------------------------------------------------------------------------

    def record_comparison(self, comparison_id: str, answer_a: int, answer_b: int, label_a: str, label_b: str,
                          rater: str | None = None) -> None:
        """Store a blind comparison waiting for its vote: the answers on sides A and B and what made each."""
        with self._writer.begin() as conn:
            rows = conn.execute(select(answers_table.c.id, answers_table.c.question)
                                .where(answers_table.c.id.in_([answer_a, answer_b]))).all()
            if len(rows) != 2 or len({normalize_question(r.question) for r in rows}) != 1:
                raise InputError(f"a comparison needs two stored answers to one question (got {answer_a}, {answer_b})")
            conn.execute(insert(comparisons_table).values(
                id=comparison_id, question=rows[0].question, answer_a=answer_a, answer_b=answer_b, label_a=label_a,
                label_b=label_b, rater=rater, created_at=_utc(None)))

    def comparison(self, comparison_id: str) -> dict[str, Any]:
        """A comparison as stored (``choice`` is None until it is voted on)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(comparisons_table).where(comparisons_table.c.id == comparison_id)) \
                .mappings().one_or_none()
        if row is None:
            raise InputError(f"no comparison {comparison_id!r} in {self.path}")
        return dict(row)

    def vote_comparison(self, comparison_id: str, choice: Literal["a", "b", "tie", "both_bad"],
                        comment: str | None = None, rater: str | None = None) -> dict[str, Any]:
        """The vote on a blind comparison, in one transaction with the feedback it makes: a preference (a, b, tie),
        or a thumbs down on both answers (both_bad). A comparison takes one vote; returns the comparison."""
        c = comparisons_table
        with self._writer.begin() as conn:
            query = select(c).where(c.c.id == comparison_id)
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()
            row = conn.execute(query).mappings().one_or_none()
            if row is None:
                raise InputError(f"no comparison {comparison_id!r} in {self.path}")
            if row["choice"] is not None:
                raise InputError(f"comparison {comparison_id!r} was voted on already ({row['choice']})")
            common = {"comment": comment, "rater": rater}
            if choice == "both_bad":
                note = f"blind A/B {comparison_id}: both bad" + (f"; {comment}" if comment else "")
                records = [Rating(answer_id=row[side], rating="down", comment=note, rater=rater)
                           for side in ("answer_a", "answer_b")]
            else:
                records = [Preference(answer_a=row["answer_a"], answer_b=row["answer_b"], preferred=choice, **common)]
            ids = [self._insert_feedback(conn, fb) for fb in records]
            conn.execute(c.update().where(c.c.id == comparison_id)
                         .values(choice=choice, feedback_ids=ids, voted_at=_utc(None)))
        return self.comparison(comparison_id)

    # import ---------------------------------------------------------------------------------------

    def import_file(self, path: str | Path) -> dict[str, Any]:
        """Import feedback from a JSONL or CSV file (see docs/feedback.md). The whole file is validated and
        written in one transaction: any bad line raises InputError naming it, and nothing is written."""
        path = Path(path)
        parsed = list(read_rows(path))
        errors = []
        rows: list[tuple[int, FeedbackRow]] = []
        for line, data in parsed:
            if isinstance(data, str):
                errors.append(f"{path}:{line}: {data}")
                continue
            try:
                rows.append((line, FeedbackRow.model_validate(data)))
            except ValidationError as e:
                errors.append(f"{path}:{line}: {describe_error(e)}")
        if not parsed:
            raise InputError(f"{path}: no feedback rows")
        raise_if_errors(errors)
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
                    errors.append(f"{path}:{line}: {describe_error(e) if isinstance(e, ValidationError) else e}")
            raise_if_errors(errors)  # raising inside the block rolls the whole file back
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


def _url(target: str | Path) -> URL:
    """A file path (SQLite) or a database URL (``sqlite:///...``, ``postgresql://...``)."""
    text = str(target)
    if "://" not in text:
        return URL.create("sqlite", database=text)
    try:
        return make_url(text)
    except ArgumentError as e:
        raise ConfigError(f"feedback.url: not a database URL ({e})") from None


def _on_connect(dbapi_conn, _record) -> None:
    dbapi_conn.isolation_level = None  # transactions are begun explicitly in _on_begin
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
        dbapi_conn.execute(f"PRAGMA {pragma}")


def _on_begin(conn: Connection) -> None:
    # Writers take the write lock up front, so two writers queue (busy timeout) instead of deadlocking.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("ragtune_write") else "BEGIN")


def _selected(name: str, *where: Any, columns: Sequence[Any] = ()) -> Any:
    """The feedback rows matching ``where`` (id, kind's columns, ``columns``) as a materialized CTE: SQLite then reads
    the feedback table once and finds their answers by key, instead of walking every answer link."""
    f = feedback_table
    return (select(f.c.id, f.c.judge_model, f.c.preferred, *columns).where(*where).cte(name)
            .prefix_with("MATERIALIZED"))


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
    return FEEDBACK_ADAPTER.validate_python(data)
