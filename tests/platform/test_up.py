"""``neura up`` as a user runs it: one command, the URL printed, the platform answering through it, and
Ctrl-C leaving no process and no listening port behind.

The web app is a stand-in (``package.json`` whose build writes ``.next/BUILD_ID`` and whose start runs a
small Node server that forwards ``/v1/*`` and ``/healthz`` to ``NEURA_API_URL``, as the real app does),
so the test exercises the build-then-start path without depending on the web app's own build."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
STAND_IN_SERVER = """
const http = require("http");
const api = new URL(process.env.NEURA_API_URL);
http.createServer((req, res) => {
  if (!req.url.startsWith("/v1/") && req.url !== "/healthz") {
    res.writeHead(200, { "content-type": "text/html" });
    return res.end("<p>stand-in web app</p>");
  }
  const headers = { ...req.headers, host: api.host };
  const upstream = http.request({ host: api.hostname, port: api.port, path: req.url, method: req.method, headers },
    (answer) => { res.writeHead(answer.statusCode, answer.headers); answer.pipe(res); });
  upstream.on("error", () => { res.writeHead(502); res.end(); });
  req.pipe(upstream);
}).listen(Number(process.env.PORT), process.env.HOSTNAME);
"""


def stand_in_web_app(folder: Path) -> Path:
    (folder / "node_modules").mkdir(parents=True)
    (folder / "server.js").write_text(STAND_IN_SERVER)
    (folder / "build.js").write_text(
        "const fs = require('fs'); fs.mkdirSync('.next'); fs.writeFileSync('.next/BUILD_ID', '1');"
    )
    scripts = {"build": "node build.js", "start": "node server.js"}
    (folder / "package.json").write_text(json.dumps({"name": "stand-in", "private": True, "scripts": scripts}))
    return folder


class Up:
    """``neura up`` in a process of its own; its output collected line by line."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        command = [sys.executable, "-m", "neura.cli", "up", *args]
        self.process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, prefix: str, timeout_s: float = 240.0) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = [line for line in self.lines if line.startswith(prefix)]
            if found:
                return found[0]
            if self.process.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.2)
        raise AssertionError(f"no line {prefix!r} from neura up:\n" + "\n".join(self.lines))

    def descendants(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children(recursive=True)

    def stop(self, signum: int) -> int:
        self.process.send_signal(signum)
        code = self.process.wait(60)
        self._reader.join(5)
        return code


def clean_env(**extra: str) -> dict[str, str]:
    """The environment with no server configured (what a fresh laptop has), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_", "DATABASE_URL", "REDIS_URL"))}
    env.update(ENV="local", **extra)
    return env


def listening(ports: set[int]) -> list[int]:
    return [c.laddr.port for c in psutil.net_connections(kind="inet") if c.status == "LISTEN" and c.laddr.port in ports]


def gone(process: psutil.Process) -> bool:
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def processes_using(folder: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if any(str(folder) in part for part in process.info["cmdline"] or []):
            found.append(process)
    return found


@pytest.fixture
def up_folder(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    for process in processes_using(tmp_path):  # a failed test must not leave servers running
        process.kill()


@pytest.mark.skipif(shutil.which("npm") is None, reason="the web app needs Node.js (npm)")
def test_neura_up_runs_the_platform_and_ctrl_c_leaves_nothing_behind(up_folder: Path) -> None:
    web = stand_in_web_app(up_folder / "web")
    data = up_folder / "data"
    api_port, web_port = free_port(), free_port()
    args = ["--data-dir", str(data), "--api-port", str(api_port), "--web-port", str(web_port), "--web-dir", str(web)]
    up = Up(args, clean_env(), cwd=up_folder)
    url = up.wait_for("NEURA is up: ").removeprefix("NEURA is up: ")
    assert url == f"http://127.0.0.1:{web_port}"
    assert any("embedded" in line for line in up.lines if line.startswith("PostgreSQL"))
    assert any("building it" in line for line in up.lines)  # no build yet: built first, then started
    assert httpx.get(f"{url}/healthz", timeout=10).json() == {"status": "ok"}  # the API, through the web app
    email = f"up-{uuid.uuid4().hex[:8]}@example.com"
    signed_up = httpx.post(f"{url}/v1/auth/signup", json={"email": email, "password": "correct horse battery"})
    assert signed_up.status_code == 201, signed_up.text
    children = up.descendants() + processes_using(data)  # gateway, worker, npm + node, Redis, PostgreSQL
    names = " ".join(" ".join(p.cmdline()) for p in children)
    assert all(part in names for part in ("serve", "worker", "server.js", "redis-server", "postgres")), names

    assert up.stop(signal.SIGINT) == 0, "\n".join(up.lines)
    assert up.lines[-1] == "stopped"
    assert [p.pid for p in children if not gone(p)] == []
    assert listening({api_port, web_port}) == []
    assert processes_using(data) == []


def test_neura_up_uses_configured_servers(up_folder: Path, database_url: str, redis_url: str) -> None:
    api_port = free_port()
    env = clean_env(DATABASE_URL=database_url, REDIS_URL=redis_url)
    up = Up(["--data-dir", str(up_folder / "data"), "--api-port", str(api_port), "--no-web"], env, cwd=up_folder)
    url = up.wait_for("NEURA is up: ").removeprefix("NEURA is up: ")
    assert url == f"http://127.0.0.1:{api_port}"
    assert "PostgreSQL: the configured one" in up.lines and "Redis: the configured one" in up.lines
    assert not (up_folder / "data" / "postgres").exists() and not (up_folder / "data" / "redis").exists()
    assert httpx.get(f"{url}/readyz", timeout=10).status_code == 200
    assert up.stop(signal.SIGTERM) == 0, "\n".join(up.lines)
    assert listening({api_port}) == []


def test_neura_up_says_which_port_is_taken(up_folder: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "neura.cli", "up", "--api-port", str(port), "--data-dir", str(up_folder)],
            env=clean_env(), cwd=up_folder, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert done.returncode == 69, done.stdout + done.stderr
    assert f"port {port}" in done.stderr and "--api-port" in done.stderr
    assert processes_using(up_folder) == []
