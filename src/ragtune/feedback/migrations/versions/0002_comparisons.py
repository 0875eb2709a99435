"""Blind comparisons (schema version 2): which answer was on which side, and the vote, stored in the same
transaction as the feedback it made.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "comparisons",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("answer_a", sa.Integer, sa.ForeignKey("answers.id"), nullable=False),
        sa.Column("answer_b", sa.Integer, sa.ForeignKey("answers.id"), nullable=False),
        sa.Column("label_a", sa.Text, nullable=False),
        sa.Column("label_b", sa.Text, nullable=False),
        sa.Column("rater", sa.Text),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("choice", sa.Text),
        sa.Column("feedback_ids", sa.JSON),
        sa.Column("voted_at", sa.DateTime),
        sa.CheckConstraint("choice IS NULL OR choice IN ('a', 'b', 'tie', 'both_bad')", name="comparisons_choice"),
    )
    op.create_index("comparisons_created", "comparisons", ["created_at"])
    op.execute("UPDATE schema_version SET version = 2")


def downgrade() -> None:
    op.drop_table("comparisons")
    op.execute("UPDATE schema_version SET version = 1")
