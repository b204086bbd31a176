"""Real worker processes for the platform tests: ``python -m neura.cli worker`` against the test
database, Redis and storage, with a short heartbeat so that recovery happens in seconds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import asyncpg
import redis

from neura.config import Settings
from neura.jobs.queue import WEBHOOK_QUEUE, render_queues, script_queues
from tests.platform.db import plain_url

REPO = Path(__file__).resolve().parents[2]
HEARTBEAT_S = 1.0


class HasLogs(Protocol):
    def logs(self) -> str: ...


def wait_until(condition: Callable[[], object], timeout_s: float, what: str, workers: HasLogs) -> None:
    """Poll ``condition`` until it holds; past ``timeout_s``, fail showing the workers' logs."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{workers.logs()}")
        time.sleep(0.05)


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "ENV": "test",
        "DATABASE_URL": settings.sqlalchemy_url,
        "REDIS_URL": settings.redis_url,
        "STORAGE_DIR": str(settings.storage_dir),
        "NEURA_CACHE_DIR": str(settings.cache_dir),
        "WORKER_HEARTBEAT_S": str(HEARTBEAT_S),
        "DRAIN_TIMEOUT_S": "5",  # a SIGTERM lets a render finish this long, well within stop()'s patience
        "WEBHOOK_ALLOW_LOOPBACK": "true" if settings.webhook_allow_loopback else "false",  # test receivers
        "PYTHONUNBUFFERED": "1",
    }
    env.update(extra)
    return env


class WorkerProcess:
    """One ``neura worker``; its output goes to ``log_path`` (printed when a test fails to start it)."""

    def __init__(
        self,
        settings: Settings,
        log_path: Path,
        *,
        concurrency: int = 1,
        env: dict[str, str] | None = None,
        args: tuple[str, ...] = (),
    ) -> None:
        self.env = worker_env(settings, **(env or {}))
        self.log_path = log_path
        self.concurrency = concurrency
        self.args = args  # more options of `neura worker` (--capability ...)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 60.0) -> WorkerProcess:
        log = self.log_path.open("ab")
        command = [sys.executable, "-m", "neura.cli", "worker", "--concurrency", str(self.concurrency), *self.args]
        self.process = subprocess.Popen(command, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout_s
        while "ready" not in self.log():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start:\n{self.log()}")
            time.sleep(0.05)
        return self

    @property
    def worker_id(self) -> str:
        """The id it announced ("neura worker <id> ready"), as videos.worker_id records it."""
        return self.log().split("neura worker ", 1)[1].split(" ready", 1)[0]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no cleanup at all, like a machine that lost power."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, timeout_s: float = 30.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


async def _cancel_leftovers(database_url: str) -> None:
    connection = await asyncpg.connect(plain_url(database_url))
    try:
        await connection.execute(
            "UPDATE videos SET status = 'cancelled', cancel_requested = true WHERE status IN ('queued', 'running')"
        )
    finally:
        await connection.close()


def clear_queues(settings: Settings) -> None:
    """Start a worker module from an empty queue: videos other modules left queued (e.g. the ownership
    matrix's) are marked cancelled, so no worker spends time rendering them."""
    import asyncio

    asyncio.run(_cancel_leftovers(settings.sqlalchemy_url))
    client = redis.Redis.from_url(settings.redis_url)
    client.delete(WEBHOOK_QUEUE, *render_queues(), *script_queues())
    client.close()
