"""A new operator's first commands against a stock PostgreSQL: a missing role, a missing database, a role
that may not create tables, a server that is not there. Each is one line saying what is missing and how
to fix it, exit 69, never a traceback; and the README's ``createuser``/``createdb`` then make it work.

Runs the real ``neura`` command line against the machine's real PostgreSQL; every role and database made
here is throwaway and dropped afterwards.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from neura.db.check import check_database
from neura.errors import DatabaseUnavailableError
from tests.platform.conftest import PG_ADMIN_URL

NEURA = [sys.executable, "-m", "neura.cli"]
ADMIN = make_url(PG_ADMIN_URL)
HOST, PORT = ADMIN.host or "127.0.0.1", ADMIN.port or 5432
_DATABASE_KEYS = ("DATABASE_URL", "POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_DB", "POSTGRES_PASSWORD")


def neura(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``neura ARGS`` as a new user runs it: only the POSTGRES_* given here, no DATABASE_URL."""
    clean = {k: v for k, v in os.environ.items() if k not in _DATABASE_KEYS}
    full_env = {
        **clean,
        "ENV": "local",
        "POSTGRES_HOST": HOST,
        "POSTGRES_PORT": str(PORT),
        "NEURA_CACHE_DIR": str(cwd / ".cache"),
        **env,
    }
    return subprocess.run([*NEURA, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=120)


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    """The whole of stderr, which must be a single ``error:`` line."""
    assert done.returncode == 69, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


async def _admin(*statements: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_URL)
    try:
        for sql in statements:
            await connection.execute(sql)
    finally:
        await connection.close()


def admin(*statements: str) -> None:
    asyncio.run(_admin(*statements))


@pytest.fixture
def role() -> Iterator[str]:
    """A throwaway login role (no superuser, may not create databases); dropped with what it owns."""
    name = f"neura_t_{uuid.uuid4().hex[:8]}"
    admin(f'CREATE ROLE "{name}" LOGIN')
    try:
        yield name
    finally:
        databases = asyncio.run(_owned_databases(name))
        admin(*(f'DROP DATABASE IF EXISTS "{d}" WITH (FORCE)' for d in databases), f'DROP ROLE IF EXISTS "{name}"')


async def _owned_databases(role: str) -> list[str]:
    connection = await asyncpg.connect(PG_ADMIN_URL)
    try:
        rows = await connection.fetch(
            "SELECT datname FROM pg_database WHERE datdba = (SELECT oid FROM pg_roles WHERE rolname = $1)", role
        )
        return [row["datname"] for row in rows]
    finally:
        await connection.close()


@pytest.mark.parametrize("command", [["db", "upgrade"], ["serve"], ["worker"]], ids=["db-upgrade", "serve", "worker"])
def test_a_missing_role_is_one_line_naming_it_and_createuser(tmp_path: Path, command: list[str]) -> None:
    missing = f"neura_nobody_{uuid.uuid4().hex[:6]}"
    line = one_line_error(neura(*command, cwd=tmp_path, POSTGRES_USER=missing, POSTGRES_DB="postgres"))
    assert f'no role "{missing}"' in line
    assert f"createuser {missing}" in line and "POSTGRES_USER" in line


@pytest.mark.parametrize("command", [["db", "upgrade"], ["serve"], ["worker"]], ids=["db-upgrade", "serve", "worker"])
def test_a_missing_database_is_one_line_naming_it_and_createdb(tmp_path: Path, role: str, command: list[str]) -> None:
    missing = f"neura_nodb_{uuid.uuid4().hex[:6]}"
    line = one_line_error(neura(*command, cwd=tmp_path, POSTGRES_USER=role, POSTGRES_DB=missing))
    assert f'no database "{missing}"' in line
    assert f"createdb --owner {role} {missing}" in line and "POSTGRES_DB" in line


def test_the_suggested_createdb_makes_upgrade_work_and_serve_then_wants_no_more(tmp_path: Path, role: str) -> None:
    database = f"{role}_db"
    before = neura("db", "upgrade", cwd=tmp_path, POSTGRES_USER=role, POSTGRES_DB=database)
    assert f"createdb --owner {role} {database}" in one_line_error(before)

    made = subprocess.run(
        ["createdb", "-h", HOST, "-p", str(PORT), "-U", ADMIN.username or "postgres", "--owner", role, database],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    url = f"postgresql+asyncpg://{role}@{HOST}:{PORT}/{database}"
    with pytest.raises(DatabaseUnavailableError, match="neura db upgrade"):  # serve/worker's check: no tables yet
        asyncio.run(check_database(url, schema=True))

    done = neura("db", "upgrade", cwd=tmp_path, POSTGRES_USER=role, POSTGRES_DB=database)
    assert done.returncode == 0, done.stderr
    assert "database at revision head" in done.stdout
    asyncio.run(check_database(url, schema=True))  # what serve and worker now find


def test_serve_before_db_upgrade_says_to_run_it(tmp_path: Path, role: str) -> None:
    database = f"{role}_empty"
    admin(f'CREATE DATABASE "{database}" OWNER "{role}"')
    line = one_line_error(neura("serve", cwd=tmp_path, POSTGRES_USER=role, POSTGRES_DB=database))
    assert "no NEURA tables" in line and "neura db upgrade" in line


def test_a_role_that_may_not_create_tables_is_told_how_to_own_the_database(tmp_path: Path, role: str) -> None:
    database = f"{role}_notmine"
    admin(f'CREATE DATABASE "{database}"')  # owned by the superuser: since PostgreSQL 15 others may not create
    try:
        line = one_line_error(neura("db", "upgrade", cwd=tmp_path, POSTGRES_USER=role, POSTGRES_DB=database))
    finally:
        admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    assert f'role "{role}" may not create' in line
    assert f"ALTER DATABASE {database} OWNER TO {role}" in line


def test_no_server_is_one_line_naming_where_it_looked(tmp_path: Path, unused_tcp_port: int) -> None:
    line = one_line_error(
        neura("db", "upgrade", cwd=tmp_path, POSTGRES_HOST="127.0.0.1", POSTGRES_PORT=str(unused_tcp_port))
    )
    assert f"cannot reach PostgreSQL at 127.0.0.1:{unused_tcp_port}" in line and "POSTGRES_HOST" in line


def test_the_default_settings_name_the_documented_role_and_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """README says: role neura, database neura, 127.0.0.1:5432; the settings must agree."""
    from neura.config import Settings

    for key in _DATABASE_KEYS:
        monkeypatch.delenv(key, raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.sqlalchemy_url == "postgresql+asyncpg://neura@127.0.0.1:5432/neura"
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert "createuser neura" in readme and "createdb --owner neura neura" in readme
