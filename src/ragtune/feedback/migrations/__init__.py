"""Alembic migrations of the feedback store (run by ``FeedbackStore`` when it opens a database; see ``migrate``)."""
