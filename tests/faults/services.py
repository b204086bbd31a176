"""PostgreSQL and Redis servers of the fault tests' own, on free loopback ports, that a test may stop
and start again (the machine's shared servers serve other people: never restart those).

Redis keeps an append-only file, as a production queue would, so a restart keeps the queued jobs;
PostgreSQL is a cluster made with ``initdb`` in a temporary folder (run as the ``postgres`` user when
the tests run as root: PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import redis

from tests.servers import free_port


def _postgres_bin(name: str) -> str:
    """The PostgreSQL program ``name`` (initdb, pg_ctl) on PATH or in Debian's versioned folder."""
    found = shutil.which(name) or next(iter(sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))), None)
    if found is None:
        raise RuntimeError(f"{name} is not installed: the fault tests need PostgreSQL's server programs")
    return str(found)


class OwnRedis:
    """``redis-server`` on a free port with its data (an append-only file) in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)

    def start(self, timeout_s: float = 10.0) -> OwnRedis:
        command = [
            shutil.which("redis-server") or "redis-server",
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.folder),
            "--appendonly", "yes",
            "--appendfsync", "always",
            "--save", "",
        ]  # fmt: skip
        with (self.folder / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1)
        deadline = time.monotonic() + timeout_s
        try:
            while True:
                try:
                    if client.ping():
                        return self
                except redis.RedisError:
                    pass
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start: {(self.folder / 'redis.log').read_text()}")
                time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        """SIGKILL: the server vanishes mid-command, as a crashed one does (the AOF keeps what it acknowledged)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class OwnPostgres:
    """A PostgreSQL cluster of its own in a new folder, listening on 127.0.0.1 on a free port; :meth:`remove`
    deletes it. As root the folder is made in /tmp itself, owned by ``postgres`` (who cannot enter the
    test run's private temporary folder)."""

    def __init__(self) -> None:
        self._as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.folder = Path(tempfile.mkdtemp(prefix="neura-pg-", dir="/tmp" if self._as_postgres else None))
        if self._as_postgres:
            shutil.chown(self.folder, "postgres")
        self.data = self.folder / "data"
        self.port = free_port()
        self.admin_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._run(_postgres_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def _run(self, *command: str) -> None:
        result = subprocess.run([*self._as_postgres, *command], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{Path(command[0]).name} failed: {result.stdout}{result.stderr}")

    def start(self) -> OwnPostgres:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        log = str(self.folder / "postgres.log")
        self._run(_postgres_bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l", log, "-w", "start")
        return self

    def stop(self, mode: str = "immediate") -> None:
        """``immediate``: every connection is cut at once, as in a crash (the WAL replays at the next start)."""
        self._run(_postgres_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        """Stop the server if it runs, and delete its folder."""
        if (self.data / "postmaster.pid").exists():
            self.stop("fast")
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass(frozen=True)
class OwnServices:
    """What :func:`own_services` started: a migrated ``neura`` database and an empty Redis of its own."""

    database_url: str  # postgresql+asyncpg://... of the migrated database "neura"
    redis_url: str
    postgres: OwnPostgres
    redis: OwnRedis


@contextmanager
def own_services(folder: Path) -> Iterator[OwnServices]:
    """A PostgreSQL cluster with a migrated database ``neura`` and a Redis server (its data in ``folder``),
    both on free loopback ports and removed on exit: for benchmarks that must not touch the machine's
    shared servers (they restart them, or measure a gateway that nothing else loads)."""
    from neura.db.migrate import upgrade  # imported here: the fault tests import this module early

    postgres = OwnPostgres()
    redis_server = OwnRedis(folder / "redis").start()
    try:
        postgres.start()
        asyncio.run(create_database(postgres.admin_url, "neura"))
        database_url = postgres.admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        database_url += "/neura"
        upgrade(database_url)
        yield OwnServices(database_url, redis_server.url, postgres, redis_server)
    finally:
        redis_server.stop()
        postgres.remove()


async def create_database(admin_url: str, name: str) -> None:
    """``CREATE DATABASE name`` on the server that ``admin_url`` reaches."""
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
