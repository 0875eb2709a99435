"""Running the feedback store's Alembic migrations on an open connection, inside the store's opening transaction."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config():
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(conn: Connection, stamp: str | None = None) -> None:
    """Upgrade the database of ``conn`` to the newest revision; ``stamp`` first records that an existing database
    is at that revision (a version-1 store made before migrations were Alembic's)."""
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = conn
    if stamp is not None:
        command.stamp(config, stamp)
    command.upgrade(config, "head")
