"""Which driver errors are an outage (503 with Retry-After) and which stay a bug (500): the errors
asyncpg, SQLAlchemy and redis-py raise, built as they raise them."""

from __future__ import annotations

import asyncpg
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from sqlalchemy.exc import DBAPIError, IntegrityError

from neura.errors import wire_error
from neura.gateway.outages import outage


def wrapped(orig: Exception, *, invalidated: bool = False) -> DBAPIError:
    """A driver error as SQLAlchemy hands it over (its adapter keeps asyncpg's as the cause)."""
    adapted = Exception(str(orig))
    adapted.__cause__ = orig
    return DBAPIError("SELECT 1", None, adapted, connection_invalidated=invalidated)


@pytest.mark.parametrize(
    ("error", "service"),
    [
        (RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused."), "Redis"),
        (ConnectionRefusedError(111, "Connection refused"), "PostgreSQL"),
        (asyncpg.exceptions.CannotConnectNowError("the database system is starting up"), "PostgreSQL"),
        (wrapped(asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed")), "PostgreSQL"),
        (wrapped(asyncpg.exceptions.AdminShutdownError("terminating connection")), "PostgreSQL"),
        (wrapped(Exception("server closed the connection"), invalidated=True), "PostgreSQL"),
    ],
)
def test_a_server_that_is_gone_is_a_503_with_retry_after(error: Exception, service: str) -> None:
    unavailable = outage(error)
    assert unavailable is not None and service in unavailable.message
    wire, status = wire_error(unavailable)
    assert (status, wire.code) == (503, "service_unavailable") and wire.hint
    assert int(unavailable.http_headers["Retry-After"]) > 0


@pytest.mark.parametrize(
    "error",
    [
        IntegrityError("INSERT", None, Exception("duplicate key")),
        wrapped(asyncpg.exceptions.UndefinedColumnError("column x does not exist")),
        ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value"),
        ValueError("a bug"),
    ],
)
def test_anything_else_stays_a_bug(error: Exception) -> None:
    assert outage(error) is None
