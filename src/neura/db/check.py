"""Is the configured PostgreSQL usable? One connection, and a message that says what to do if not.

``neura db upgrade``, ``neura serve`` and ``neura worker`` call :func:`check_database` first, so a
missing role, database or server is one line naming what is missing and how to fix it (exit 69), not a
traceback from deep inside SQLAlchemy.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine

from neura.errors import DatabaseUnavailableError

CONNECT_TIMEOUT_S = 5.0

# SQLSTATE codes (https://www.postgresql.org/docs/current/errcodes-appendix.html)
_AUTHORIZATION = "28000"  # a missing role, or no pg_hba.conf entry
_PASSWORD = "28P01"
_NO_DATABASE = "3D000"
_NO_PRIVILEGE = "42501"
_UNREACHABLE = "unreachable"  # not PostgreSQL's: the connection never reached a server


@dataclass(frozen=True)
class Target:
    """Where a database URL points, in words for messages (never the password)."""

    user: str
    database: str
    server: str  # "127.0.0.1:5432" or a socket folder

    @classmethod
    def of(cls, url: str) -> Target:
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise DatabaseUnavailableError(
                "DATABASE_URL is not a database URL: use the form postgresql+asyncpg://user:password@host:5432/db"
            ) from None
        socket_dir = parsed.query.get("host")
        host = parsed.host or (socket_dir if isinstance(socket_dir, str) else None) or "localhost"
        server = host if host.startswith("/") else f"{host}:{parsed.port or 5432}"
        return cls(parsed.username or "", parsed.database or "", server)


async def check_database(url: str, *, schema: bool = False) -> None:
    """Connect once; with ``schema``, also require NEURA's tables (``neura db upgrade`` made them).

    Raises :class:`DatabaseUnavailableError` whose message names what is missing and how to fix it."""
    target = Target.of(url)
    engine = create_async_engine(url, connect_args={"timeout": CONNECT_TIMEOUT_S})
    try:
        async with engine.connect() as connection:
            if schema:
                migrated = await connection.scalar(text("SELECT to_regclass('alembic_version') IS NOT NULL"))
                if not migrated:
                    raise DatabaseUnavailableError(
                        f'the database "{target.database}" on PostgreSQL at {target.server} has no NEURA tables '
                        "yet: run `neura db upgrade` first"
                    )
    except (SQLAlchemyError, OSError, asyncio.TimeoutError) as error:
        raise database_error(error, target) from error
    finally:
        await engine.dispose()


def database_error(error: BaseException, target: Target) -> DatabaseUnavailableError:
    """The one-line explanation of a failed connection or migration."""
    code, detail = _postgres_error(error)
    server, user, database = target.server, target.user, target.database
    if code == _AUTHORIZATION and "does not exist" in detail:
        return DatabaseUnavailableError(
            f'PostgreSQL at {server} has no role "{user}": create it (as a PostgreSQL superuser: '
            f"createuser {user}), or set POSTGRES_USER (or DATABASE_URL) to a role that exists"
        )
    if code == _NO_DATABASE:
        return DatabaseUnavailableError(
            f'PostgreSQL at {server} has no database "{database}": create it (as a PostgreSQL superuser: '
            f"createdb --owner {user} {database}), or set POSTGRES_DB (or DATABASE_URL) to a database that exists"
        )
    if code == _PASSWORD or "password" in detail.lower():
        return DatabaseUnavailableError(
            f'PostgreSQL at {server} refused the password of role "{user}" ({detail}): set POSTGRES_PASSWORD '
            "to that role's password (or DATABASE_URL)"
        )
    if code == _AUTHORIZATION:
        return DatabaseUnavailableError(
            f'PostgreSQL at {server} refused role "{user}" ({detail}): allow it in pg_hba.conf, or set '
            "POSTGRES_USER (or DATABASE_URL) to a role it accepts"
        )
    if code == _NO_PRIVILEGE:
        return DatabaseUnavailableError(
            f'role "{user}" may not create NEURA\'s tables in database "{database}" ({detail}): make it the '
            f"owner (as a PostgreSQL superuser: psql -c 'ALTER DATABASE {database} OWNER TO {user}'; on "
            f"PostgreSQL 15 and later also: psql -d {database} -c 'ALTER SCHEMA public OWNER TO {user}')"
        )
    if code == _UNREACHABLE:
        return DatabaseUnavailableError(
            f"cannot reach PostgreSQL at {server} ({detail}): start it, or set POSTGRES_HOST and POSTGRES_PORT "
            "(or DATABASE_URL) to where it runs"
        )
    return DatabaseUnavailableError(f"PostgreSQL at {server} failed: {detail}")


def _postgres_error(error: BaseException) -> tuple[str | None, str]:
    """The SQLSTATE and message of the PostgreSQL error inside SQLAlchemy's wrappers, or
    ``_UNREACHABLE`` for a connection that never reached a server."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        code = getattr(current, "sqlstate", None)
        if isinstance(code, str):
            return code, _first_line(current)
        if isinstance(current, OSError | asyncio.TimeoutError):
            return _UNREACHABLE, _first_line(current) or "timed out"
        nested = getattr(current, "orig", None)
        current = nested if isinstance(nested, BaseException) else current.__cause__
    return None, _first_line(error)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
