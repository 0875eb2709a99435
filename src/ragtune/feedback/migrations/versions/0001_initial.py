"""The feedback store as ragtune 0.1 made it (schema version 1): answers, feedback, feedback_answers.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    version = op.create_table("schema_version", sa.Column("version", sa.Integer, nullable=False))
    op.create_table(
        "answers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("context", sa.JSON, nullable=False),
        sa.Column("model", sa.Text),
        sa.Column("pipeline", sa.Text),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("answers_question", "answers", ["question"])
    op.create_index("answers_created", "answers", ["created_at"])
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("rating", sa.Text),
        sa.Column("preferred", sa.Text),
        sa.Column("edited_answer", sa.Text),
        sa.Column("comment", sa.Text),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("judge_model", sa.Text),
        sa.Column("rater", sa.Text),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.CheckConstraint("kind IN ('rating', 'preference', 'ranking', 'edit')", name="feedback_kind"),
        sa.CheckConstraint("rating IS NULL OR rating IN ('up', 'down')", name="feedback_rating"),
        sa.CheckConstraint("preferred IS NULL OR preferred IN ('a', 'b', 'tie')", name="feedback_preferred"),
        sa.CheckConstraint("source IN ('human', 'ai')", name="feedback_source"),
        sqlite_autoincrement=True,
    )
    op.create_index("feedback_created", "feedback", ["created_at"])
    op.create_table(
        "feedback_answers",
        sa.Column("feedback_id", sa.Integer, sa.ForeignKey("feedback.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("answer_id", sa.Integer, sa.ForeignKey("answers.id"), nullable=False),
    )
    op.create_index("feedback_answers_answer", "feedback_answers", ["answer_id"])
    op.bulk_insert(version, [{"version": 1}])


def downgrade() -> None:
    for table in ("feedback_answers", "feedback", "answers", "schema_version"):
        op.drop_table(table)
