"""Direct looks at the test database, for asserting what a request did (or did not) store."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg


def plain_url(database_url: str) -> str:
    return database_url.replace("postgresql+asyncpg://", "postgresql://")


async def _fetchval(database_url: str, sql: str, *args: Any) -> Any:
    connection = await asyncpg.connect(plain_url(database_url))
    try:
        return await connection.fetchval(sql, *args)
    finally:
        await connection.close()


def fetchval(database_url: str, sql: str, *args: Any) -> Any:
    """One value from one query (run from synchronous tests)."""
    return asyncio.run(_fetchval(database_url, sql, *args))


def count_rows(database_url: str, table: str) -> int:
    return int(fetchval(database_url, f"SELECT count(*) FROM {table}"))
