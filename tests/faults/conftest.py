"""Fault fixtures: PostgreSQL and Redis of this module's own (so a test may crash and restart them),
a migrated database, and the real gateway served over HTTP on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from neura.config import Settings
from neura.db.migrate import upgrade
from neura.gateway.app import create_app
from neura.gateway.server import uvicorn_options
from tests.faults.services import OwnPostgres, OwnRedis, create_database
from tests.servers import serve_in_thread


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[OwnPostgres]:
    server = OwnPostgres()
    try:
        yield server.start()
    finally:
        server.remove()


@pytest.fixture(scope="module")
def own_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def database_url(own_postgres: OwnPostgres) -> str:
    asyncio.run(create_database(own_postgres.admin_url, "neura"))
    url = own_postgres.admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + "/neura"
    upgrade(url)
    return url


@pytest.fixture(scope="module")
def fault_settings(database_url: str, own_redis: OwnRedis, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root: Path = tmp_path_factory.mktemp("platform")
    return Settings(  # type: ignore[call-arg]
        ENV="test",
        DATABASE_URL=database_url,
        REDIS_URL=own_redis.url,
        STORAGE_DIR=root / "storage",
        NEURA_CACHE_DIR=root / "cache",
        RATE_LIMIT_PER_MINUTE=10_000,
        LIVE_SESSIONS_PER_MINUTE=10_000,
        LIVE_MESSAGES_PER_MINUTE=10_000,
    )


@pytest.fixture(scope="module")
def gateway_url(fault_settings: Settings) -> Iterator[str]:
    with serve_in_thread(create_app(fault_settings), **uvicorn_options(fault_settings)) as url:
        yield url


@pytest.fixture
def client(gateway_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway_url, timeout=30.0) as http:
        yield http
