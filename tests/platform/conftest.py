"""Platform fixtures: a fresh PostgreSQL database per test session (migrated with Alembic), a clean
Redis database, and the real gateway served over HTTP on loopback.

PostgreSQL and Redis are the machine's real servers (127.0.0.1:5432 with trust auth, 127.0.0.1:6379);
``NEURA_TEST_PG_ADMIN_URL`` and ``NEURA_TEST_REDIS_URL`` point elsewhere.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
import redis

from neura.config import Settings
from neura.db.migrate import upgrade
from neura.gateway.app import create_app
from neura.gateway.server import uvicorn_options
from tests.servers import serve_in_thread

PG_ADMIN_URL = os.environ.get("NEURA_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("NEURA_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
METRICS_TOKEN = "test-metrics-token-0123456789"  # /metrics answers only this bearer token
METRICS_HEADERS = {"Authorization": f"Bearer {METRICS_TOKEN}"}


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A brand-new database for this test session, migrated to head, dropped afterwards."""
    name = f"neura_test_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    url = f"{base}/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The test Redis database, empty at the start and emptied again at the end (nothing left behind)."""
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    try:
        yield REDIS_URL
    finally:
        client.flushdb()
        client.close()


@pytest.fixture(scope="session")
def platform_settings(database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root: Path = tmp_path_factory.mktemp("platform")
    return Settings(  # type: ignore[call-arg]
        ENV="test",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        STORAGE_DIR=root / "storage",
        NEURA_CACHE_DIR=root / "cache",
        RATE_LIMIT_PER_MINUTE=10_000,  # the limits are tested by test_ratelimit.py on a gateway of its own
        SPEECH_PER_MINUTE=10_000,
        TTS_STREAM_MESSAGES_PER_MINUTE=100_000,
        FILES_PER_MINUTE=10_000,
        LIVE_SESSIONS_PER_MINUTE=10_000,
        LIVE_MESSAGES_PER_MINUTE=10_000,
        LIVE_CONNECT_TIMEOUT_S=600,  # test_ownership keeps a never-connected session open for its module
        WEBHOOK_ALLOW_LOOPBACK=True,  # webhook tests deliver to a receiver on 127.0.0.1
        METRICS_TOKEN=METRICS_TOKEN,
    )


@pytest.fixture(scope="session")
def gateway_url(platform_settings: Settings) -> Iterator[str]:
    """The real gateway on a loopback port, shared by the platform tests."""
    with serve_in_thread(create_app(platform_settings), **uvicorn_options(platform_settings)) as url:
        yield url


@pytest.fixture
def client(gateway_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway_url, timeout=30.0) as http:
        yield http
