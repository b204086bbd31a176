"""``neura up``: the whole platform on one machine, with one command and one Ctrl-C.

In order: PostgreSQL and Redis (the configured ones, or embedded ones in the data folder when none is
configured: ``neura.local_servers``), the database migrations, the gateway (``neura serve``), a worker
(``neura worker``) and the web app (``frontend/``: ``npm run start``, built first when it is not). Each
runs as a process of its own exactly as in production (the same commands, settings from the
environment); only where the servers come from differs. Their output goes to ``<data>/logs/``.

Ctrl-C (SIGINT) or SIGTERM stops everything in reverse order: web app, worker, gateway, then the
embedded Redis and PostgreSQL. A process that exits on its own stops the rest too.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from neura.config import Settings
from neura.errors import NeuraError

Say = Callable[[str], None]
DATABASE_KEYS = {"database_url", "postgres_host", "postgres_port", "postgres_db", "postgres_user", "postgres_password"}
START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 15.0


class UpError(NeuraError):
    """A part of the platform cannot start here."""

    exit_code = 69  # EX_UNAVAILABLE


@dataclass(frozen=True)
class UpOptions:
    data_dir: Path
    host: str = "127.0.0.1"
    api_port: int = 8000
    web_port: int = 3000
    web_dir: Path | None = None  # None: no web app


@dataclass
class Service:
    """One of the platform's processes, in a session of its own (the terminal's Ctrl-C reaches only
    ``neura up``, which stops them in order), its output in a log file."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @classmethod
    def start(cls, name: str, command: list[str], env: dict[str, str], logs: Path, cwd: Path | None = None) -> Service:
        log_path = logs / f"{name}.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )  # fmt: skip
        return cls(name, process, log_path)

    def stop(self) -> None:
        """SIGTERM to its whole process group (npm's children too), SIGKILL if it lingers."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)  # anything of its group still there

    def log_tail(self, lines: int = 15) -> str:
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


def run(settings: Settings, options: UpOptions, say: Say) -> None:
    """Start everything, report the URL, and run until Ctrl-C or SIGTERM (or until a process dies)."""
    logs = options.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    services: list[Service] = []
    with contextlib.ExitStack() as stack, _terminate_as_interrupt():
        try:
            for port, flag in ((options.api_port, "--api-port"), (options.web_port, "--web-port")):
                _check_port_free(options.host, port, flag)
            env = _platform_env(settings, options, stack, say)
            api_url = f"http://{options.host}:{options.api_port}"
            stack.callback(_stop_all, services, say)
            serve = ["serve", "--host", options.host, "--port", str(options.api_port)]
            services.append(Service.start("gateway", _neura(*serve), env, logs))
            _wait_http(f"{api_url}/healthz", services[-1])
            services.append(Service.start("worker", _neura("worker"), env, logs))
            web_url = _start_web(options, env, logs, services, say)
            say(f"NEURA is up: {web_url or api_url}")
            say(f"  API {api_url} (docs {api_url}/docs); logs in {logs}; Ctrl-C stops everything")
            _supervise(services)
        except KeyboardInterrupt:
            say("stopping...")
        finally:  # a second Ctrl-C or SIGTERM must not cut the shutdown short
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    say("stopped")


# --- servers and settings


def _platform_env(settings: Settings, options: UpOptions, stack: contextlib.ExitStack, say: Say) -> dict[str, str]:
    """The environment of every process: the configured servers, or embedded ones started here."""
    from neura.db.migrate import upgrade
    from neura.local_servers import EmbeddedPostgres, EmbeddedRedis

    env = dict(os.environ)
    configured = settings.model_fields_set
    if configured & DATABASE_KEYS:
        database_url = settings.sqlalchemy_url
        say("PostgreSQL: the configured one")
    else:
        say(f"PostgreSQL: embedded, in {options.data_dir / 'postgres'} (starting...)")
        postgres = EmbeddedPostgres(options.data_dir / "postgres")
        stack.callback(_stopping, say, "PostgreSQL", postgres.stop)
        database_url = env["DATABASE_URL"] = postgres.url
    if "redis_url" in configured:
        say("Redis: the configured one")
    else:
        redis = EmbeddedRedis(options.data_dir / "redis", options.data_dir / "logs" / "redis.log")
        stack.callback(_stopping, say, "Redis", redis.stop)
        env["REDIS_URL"] = redis.url
        say(f"Redis: embedded, in {options.data_dir / 'redis'}")
    say("database: applying migrations")
    upgrade(database_url)
    api_url = f"http://{options.host}:{options.api_port}"
    if "storage_dir" not in configured:
        env["STORAGE_DIR"] = str(options.data_dir / "storage")
    if "public_base_url" not in configured:  # download links go through the web app's proxy when it runs
        web = options.web_dir is not None
        env["PUBLIC_BASE_URL"] = f"http://{options.host}:{options.web_port}" if web else api_url
    if "live_internal_url" not in configured:
        env["LIVE_INTERNAL_URL"] = api_url
    return env


def _stopping(say: Say, name: str, stop: Callable[[], None]) -> None:
    say(f"stopping {name}")
    stop()


def _stop_all(services: list[Service], say: Say) -> None:
    for service in reversed(services):
        say(f"stopping the {service.name}")
        service.stop()


def _neura(*args: str) -> list[str]:
    return [sys.executable, "-m", "neura.cli", *args]


def _check_port_free(host: str, port: int, flag: str) -> None:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            raise UpError(
                f"port {port} on {host} is in use", hint=f"stop what uses it, or choose another: {flag}"
            ) from None


def _wait_http(url: str, service: Service, timeout_s: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if service.process.poll() is not None:
            raise UpError(f"the {service.name} stopped while starting:\n{service.log_tail()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2.0).status_code < 500:
                return
        if time.monotonic() > deadline:
            raise UpError(f"the {service.name} did not answer {url} within {timeout_s:g} s (log: {service.log_path})")
        time.sleep(0.2)


def _supervise(services: list[Service]) -> None:
    while True:
        for service in services:
            code = service.process.poll()
            if code is not None:
                raise UpError(f"the {service.name} stopped (exit {code}):\n{service.log_tail()}")
        time.sleep(0.5)


# --- the web app


def _start_web(options: UpOptions, env: dict[str, str], logs: Path, services: list[Service], say: Say) -> str | None:
    """Start the web app (building it first when needed); None, with the reason said, when it cannot."""
    web_dir = options.web_dir
    if web_dir is None:
        return None
    missing = _web_missing(web_dir)
    if missing:
        say(f"web app: not started: {missing}; the API runs on its own")
        return None
    web_env = {
        **env,
        "NEURA_API_URL": f"http://{options.host}:{options.api_port}",
        "PORT": str(options.web_port),
        "HOSTNAME": options.host,
        "NEXT_TELEMETRY_DISABLED": "1",
    }
    if not (web_dir / "node_modules").is_dir():
        say(f"web app: installing its packages (npm ci in {web_dir})...")
        _npm(["ci", "--no-audit", "--no-fund"], web_dir, web_env, logs)
    if _needs_build(web_dir):
        say("web app: building it (npm run build, about half a minute)...")
        _npm(["run", "build"], web_dir, web_env, logs)
    start = ["npm", "run", "start", "--", "--port", str(options.web_port), "--hostname", options.host]
    services.append(Service.start("web", start, web_env, logs, cwd=web_dir))
    url = f"http://{options.host}:{options.web_port}"
    _wait_http(url, services[-1])
    return url


def _web_missing(web_dir: Path) -> str | None:
    if not (web_dir / "package.json").is_file():
        return f"no web app at {web_dir} (the frontend/ folder of a NEURA checkout; --web-dir names another)"
    if shutil.which("npm") is None:
        return "Node.js 20 or newer is needed (npm was not found)"
    return None


def _needs_build(web_dir: Path) -> bool:
    """No build yet, or sources newer than it."""
    build_id = web_dir / ".next" / "BUILD_ID"
    if not build_id.is_file():
        return True
    built_at = build_id.stat().st_mtime
    sources = [web_dir / name for name in ("package.json", "package-lock.json", "next.config.ts", "next.config.js")]
    sources += [path for path in (web_dir / "src").rglob("*") if path.is_file()] if (web_dir / "src").is_dir() else []
    return any(path.is_file() and path.stat().st_mtime > built_at for path in sources)


def _npm(args: list[str], web_dir: Path, env: dict[str, str], logs: Path) -> None:
    log_path = logs / "web-build.log"
    with log_path.open("ab") as log:
        done = subprocess.run(["npm", *args], cwd=web_dir, env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-15:])
        raise UpError(f"npm {' '.join(args)} failed in {web_dir} (exit {done.returncode}):\n{tail}")


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (kill, systemd, docker stop) and SIGINT stop everything (as KeyboardInterrupt)."""

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored (nohup, &)
    yield
