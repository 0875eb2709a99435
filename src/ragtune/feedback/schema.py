"""The feedback store's SQL schema (SQLAlchemy Core tables) and its version.

Migrations are Alembic revisions in ``ragtune/feedback/migrations/versions/`` (``migrate.upgrade`` runs them
when a store opens); ``HEAD`` is the newest. The ``schema_version`` table, which every revision keeps current,
lets an older ragtune refuse a newer database. docs/feedback.md describes the tables.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
)

SCHEMA_VERSION = 2
HEAD = "0002"  # the Alembic revision of SCHEMA_VERSION

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
# A blind comparison: the answers on sides A and B, what made each (shown only after the vote), and the vote.
comparisons_table = Table(
    "comparisons", metadata,
    Column("id", Text, primary_key=True),
    Column("question", Text, nullable=False),
    Column("answer_a", Integer, ForeignKey("answers.id"), nullable=False),
    Column("answer_b", Integer, ForeignKey("answers.id"), nullable=False),
    Column("label_a", Text, nullable=False),
    Column("label_b", Text, nullable=False),
    Column("rater", Text),
    Column("created_at", DateTime, nullable=False),
    Column("choice", Text),
    Column("feedback_ids", JSON),
    Column("voted_at", DateTime),
    CheckConstraint("choice IS NULL OR choice IN ('a', 'b', 'tie', 'both_bad')", name="comparisons_choice"),
    Index("comparisons_created", "created_at"),
)
