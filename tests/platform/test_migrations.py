"""Migrations apply to an empty database, are reversible, and match the models."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import Iterator

import asyncpg
import pytest

from neura.db.migrate import downgrade, upgrade
from tests.platform.conftest import PG_ADMIN_URL, _admin


@pytest.fixture
def empty_database() -> Iterator[tuple[str, str]]:
    name = f"neura_migrate_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base.replace('postgresql://', 'postgresql+asyncpg://')}/{name}", f"{base}/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _tables(dsn: str) -> set[str]:
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {r["tablename"] for r in rows}
    finally:
        await connection.close()


def test_upgrade_downgrade_upgrade(empty_database: tuple[str, str]) -> None:
    url, dsn = empty_database
    upgrade(url)
    tables = asyncio.run(_tables(dsn))
    assert {"users", "videos", "avatars", "api_keys", "credit_ledger", "webhooks", "live_sessions"} <= tables
    downgrade(url, "base")
    assert asyncio.run(_tables(dsn)) <= {"alembic_version"}
    upgrade(url)
    assert asyncio.run(_tables(dsn)) == tables


def test_models_and_migrations_agree(empty_database: tuple[str, str]) -> None:
    url, _ = empty_database
    upgrade(url)
    check = (
        "from alembic import command; from neura.db.migrate import alembic_config; "
        f"command.check(alembic_config({url!r}))"
    )
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]


def test_neura_db_upgrade_command(empty_database: tuple[str, str]) -> None:
    url, dsn = empty_database
    done = subprocess.run(
        [sys.executable, "-m", "neura.cli", "db", "upgrade"],
        env={"DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "users" in asyncio.run(_tables(dsn))
