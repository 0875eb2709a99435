"""Alembic environment: migrations run on the connection ``FeedbackStore`` opened (``config.attributes``), or on
``sqlalchemy.url`` when run from the alembic command line (``alembic -c .../alembic.ini upgrade head``)."""

from alembic import context
from sqlalchemy import create_engine

from ragtune.feedback.schema import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is not None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
