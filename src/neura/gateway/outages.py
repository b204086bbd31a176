"""A PostgreSQL or Redis that cannot be reached is an outage, not a bug: 503 with ``Retry-After``.

When either server restarts, requests in flight and those that arrive before it is back fail inside a
driver (asyncpg, SQLAlchemy, redis-py). Left to the catch-all handler they were 500 "internal" (and the
connection was dropped); :func:`outage` recognises them so that the gateway answers
:class:`~neura.errors.ServiceUnavailableError` instead. Nothing needs restarting afterwards: the
SQLAlchemy pool pings a connection before lending it (``pool_pre_ping``) and redis-py reconnects on its
next command.
"""

from __future__ import annotations

import asyncpg
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from neura.errors import ServiceUnavailableError

RETRY_AFTER_S = 5  # a restarted PostgreSQL or Redis answers again within seconds

# the driver errors that mean "the server is gone or not ready", whatever the request was
_POSTGRES_OUTAGES = (
    asyncpg.PostgresConnectionError,  # connection lost or refused
    asyncpg.exceptions.OperatorInterventionError,  # shutting down, starting up, terminated by the admin
    asyncpg.InterfaceError,  # "connection is closed" and the like
    ConnectionError,  # the socket: refused, reset, broken pipe
    TimeoutError,
)
OUTAGE_ERRORS: tuple[type[Exception], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    PoolTimeoutError,
    DBAPIError,
    *_POSTGRES_OUTAGES,
)


def outage(exc: BaseException) -> ServiceUnavailableError | None:
    """The 503 that ``exc`` stands for, or None when it is not an outage (a bug stays a 500)."""
    if isinstance(exc, RedisConnectionError | RedisTimeoutError):
        return _unavailable("Redis")
    if isinstance(exc, PoolTimeoutError):
        return _unavailable("PostgreSQL")
    if isinstance(exc, DBAPIError):
        cause = exc.orig.__cause__ if exc.orig is not None and exc.orig.__cause__ is not None else exc.orig
        if exc.connection_invalidated or isinstance(cause, _POSTGRES_OUTAGES):
            return _unavailable("PostgreSQL")
        return None
    if isinstance(exc, _POSTGRES_OUTAGES):
        return _unavailable("PostgreSQL")
    return None


def _unavailable(service: str) -> ServiceUnavailableError:
    return ServiceUnavailableError(
        f"{service} cannot be reached at the moment",
        retry_after_s=RETRY_AFTER_S,
        hint=f"retry in {RETRY_AFTER_S} seconds: the service recovers by itself",
    )
