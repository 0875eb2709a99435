"""The feedback store's SQL schema (SQLAlchemy Core tables), its version and the migrations between versions.

The ``schema_version`` table lets a newer ragtune migrate an older file and an older ragtune refuse a newer one;
docs/feedback.md describes the tables.
"""

from __future__ import annotations

from collections.abc import Callable

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
)

SCHEMA_VERSION = 1

metadata = MetaData()
schema_version_table = Table("schema_version", metadata, Column("version", Integer, nullable=False))
answers_table = Table(
    "answers", metadata,
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
    "feedback", metadata,
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
    "feedback_answers", metadata,
    Column("feedback_id", Integer, ForeignKey("feedback.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("answer_id", Integer, ForeignKey("answers.id"), nullable=False),
    Index("feedback_answers_answer", "answer_id"),
)

# MIGRATIONS[v] upgrades a version-v database to v+1 inside the opening transaction.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {}
