"""Alembic migrations, run programmatically (no alembic.ini): ``neura db upgrade`` / ``downgrade``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.exc import SQLAlchemyError

from neura.db.check import Target, database_error

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Raises :class:`~neura.errors.DatabaseUnavailableError` when PostgreSQL refuses (e.g. a role that
    may not create tables)."""
    try:
        command.upgrade(alembic_config(url), revision)
    except (SQLAlchemyError, OSError) as error:
        raise database_error(error, Target.of(url)) from error


def downgrade(url: str, revision: str = "base") -> None:
    try:
        command.downgrade(alembic_config(url), revision)
    except (SQLAlchemyError, OSError) as error:
        raise database_error(error, Target.of(url)) from error


def current(url: str) -> None:
    command.current(alembic_config(url))
