"""The whole NEURA product on this machine, for the browser tests and bench/web.py.

    .venv/bin/python frontend/e2e/stack.py [--spawn-redis] -- <command> [args...]

Starts, on loopback only, and waits until each answers:

* a fresh PostgreSQL database (created through ``NEURA_E2E_PG_ADMIN_URL``, migrated; dropped at the end),
* Redis: a private ``redis-server`` (``--spawn-redis``; needed inside ``unshare -n``, where the machine's
  Redis is not reachable) or the database ``NEURA_TEST_REDIS_URL`` (flushed first),
* a fake OpenAI-compatible language model (tests/fakes/openai_server.py, in this process): it answers a
  script request (JSON mode) with a short narration script and a chat message with what the user said
  ("You said: ...") then a fixed spoken reply, 50 ms to the first token at 80 tokens/s, like bench/live.py's,
* the gateway (``neura serve``) and one worker (``neura worker``) as subprocesses, with a voice and
  rig cache of their own (``<work>/cache``, kept between runs of one work folder: later runs start
  warm, and no other checkout's cache is read),
* the web app (``next start``; build it first),

then runs the command with ``NEURA_WEB_URL``, ``NEURA_API_URL``, ``NEURA_E2E_DATABASE_URL`` (a plain
``postgresql://`` URL), ``NEURA_E2E_FIXTURES`` (test photos written here) and ``NEURA_E2E_LOGS`` set, stops
everything and exits with the command's status. Logs of every process are left in ``--logs``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
sys.path.insert(0, str(ROOT))

from tests.fakes._server import Behaviour, RecordedRequest  # noqa: E402
from tests.fakes.openai_server import FakeOpenAIServer  # noqa: E402
from tests.servers import free_port, stop_process  # noqa: E402

from neura.db.migrate import upgrade  # noqa: E402

PG_ADMIN_URL = os.environ.get("NEURA_E2E_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SPOKEN_REPLY = (
    "Great question! The deep ocean is the largest habitat on Earth, and most of it has never been "
    "explored. Sunlight fades within a few hundred meters, so many animals make their own light."
)
SCRIPT_REPLY = {
    "title": "Why the sky is blue",
    "scenes": [
        {
            "narration": "Sunlight holds every colour. Air scatters the short blue waves far more than red ones.",
            "caption": "Sunlight is scattered",
        },
        {
            "narration": "So when you look up, blue light reaches your eyes from every direction of the sky.",
            "caption": "Blue from everywhere",
        },
    ],
}


def fake_replies(spoken: str, *, echo: bool = False) -> Callable[[RecordedRequest], str]:
    """A narration script for the script writer (it asks for JSON), ``spoken`` for everyone else;
    ``echo``: first what the user said ("You said: ..."), so a test sees its spoken question answered."""

    def reply(request: RecordedRequest) -> str:
        body = request.json or {}
        messages = body.get("messages", [])
        wants_json = bool(body.get("response_format")) or any(
            "narration scripts" in str(m.get("content", "")) for m in messages
        )
        if wants_json:
            return json.dumps(SCRIPT_REPLY)
        said = next((str(m.get("content", "")) for m in reversed(messages) if m.get("role") == "user"), "")
        return f"You said: {said.strip().rstrip('.?!')}. {spoken}" if echo and said.strip() else spoken

    return reply


# --- services
async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@contextmanager
def fresh_database() -> Iterator[str]:
    """A migrated database of its own; yields its SQLAlchemy (asyncpg) URL."""
    name = f"neura_e2e_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    base, _, query = PG_ADMIN_URL.partition("?")
    url = base.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{name}"
    if query:
        url += f"?{query}"
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def redis_server(logs: Path, spawn: bool) -> Iterator[str]:
    if not spawn:
        url = os.environ.get("NEURA_TEST_REDIS_URL", "redis://127.0.0.1:6379/6")
        import redis

        client = redis.Redis.from_url(url)
        client.flushdb()
        client.close()
        yield url
        return
    port = free_port()
    args = ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    with open(logs / "redis.log", "wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: _redis_ready(port), "redis-server", proc, logs / "redis.log", 10.0)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop_process(proc)


def _redis_ready(port: int) -> bool:
    import redis

    try:
        client = redis.Redis(host="127.0.0.1", port=port)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except redis.RedisError:
        return False


def _http_ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2.0).status_code < 500
    except httpx.HTTPError:
        return False


def wait_for(ready: Any, name: str, proc: subprocess.Popen[bytes], log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready():
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}; see {log}:\n{log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not become ready in {timeout_s:.0f} s; see {log}")
        time.sleep(0.2)


@contextmanager
def process(
    name: str, args: list[str], env: dict[str, str], logs: Path, ready_url: str | None, cwd: Path = ROOT
) -> Iterator[subprocess.Popen[bytes]]:
    log = logs / f"{name}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        if ready_url is not None:
            wait_for(lambda: _http_ready(ready_url), name, proc, log, 90.0)
        yield proc
    finally:
        stop_process(proc)


# --- test photos
def write_fixtures(folder: Path) -> None:
    """Photos for the avatar flows, made from scikit-image's public-domain samples."""
    from skimage import data

    folder.mkdir(parents=True, exist_ok=True)
    portrait = np.asarray(data.astronaut(), dtype=np.uint8)
    Image.fromarray(portrait).save(folder / "portrait.jpg", quality=92)
    Image.fromarray(np.asarray(data.chelsea(), dtype=np.uint8)).save(folder / "cat.jpg", quality=90)
    Image.fromarray(portrait).resize((96, 96), Image.Resampling.LANCZOS).save(folder / "tiny-face.png")
    pair = np.concatenate([portrait, portrait[:, ::-1]], axis=1)
    Image.fromarray(pair).save(folder / "two-faces.jpg", quality=90)
    (folder / "notes.png").write_bytes(b"these are notes, not a picture\n" * 20)


# --- the stack
def gateway_env(database_url: str, redis_url: str, storage: Path, llm_url: str, web_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "ENV": "test",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "STORAGE_BACKEND": "local",
            "STORAGE_DIR": str(storage / "objects"),
            "NEURA_CACHE_DIR": str(storage.parent / "cache"),
            "PUBLIC_BASE_URL": web_url,
            "WEBRTC_HOST_ADDRESSES": "127.0.0.1",
            "LLM_PROVIDER": "lmstudio",
            "LMSTUDIO_BASE_URL": llm_url,
            "RATE_LIMIT_PER_MINUTE": "100000",
            "LIVE_SESSIONS_PER_MINUTE": "1000",  # bench/web.py opens a session per page load, a dozen a minute
            "WORKER_CONCURRENCY": "1",
        }
    )
    return env


@contextmanager
def stack(
    work: Path,
    *,
    spawn_redis: bool,
    web_port: int = 0,
    api_port: int = 0,
    worker: bool = True,
    spoken_reply: str = SPOKEN_REPLY,
    echo: bool = False,
) -> Iterator[dict[str, str]]:
    """Everything running; yields the environment a client needs (URLs, fixtures, logs)."""
    logs = work / "logs"
    for stale in (logs, work / "storage"):  # a kept work folder: start from nothing
        shutil.rmtree(stale, ignore_errors=True)
    logs.mkdir(parents=True, exist_ok=True)
    fixtures = work / "fixtures"
    write_fixtures(fixtures)
    api_port = api_port or free_port()
    web_port = web_port or free_port()
    api_url = f"http://127.0.0.1:{api_port}"
    web_url = f"http://127.0.0.1:{web_port}"
    neura = str(ROOT / ".venv" / "bin" / "neura")
    with ExitStack() as stack_:
        database_url = stack_.enter_context(fresh_database())
        redis_url = stack_.enter_context(redis_server(logs, spawn_redis))
        replies = fake_replies(spoken_reply, echo=echo)
        llm = FakeOpenAIServer(Behaviour(replies=replies, ttft_ms=50.0, tokens_per_s=80.0)).start()
        stack_.callback(llm.stop)
        env = gateway_env(database_url, redis_url, work / "storage", llm.base_url, web_url)
        stack_.enter_context(
            process("gateway", [neura, "serve", "--port", str(api_port)], env, logs, f"{api_url}/readyz")
        )
        if worker:
            stack_.enter_context(process("worker", [neura, "worker", "--concurrency", "1"], env, logs, None))
        web_env = dict(os.environ, NEURA_API_URL=api_url, NEXT_TELEMETRY_DISABLED="1", NODE_ENV="production")
        next_bin = str(FRONTEND / "node_modules" / ".bin" / "next")
        stack_.enter_context(
            process(
                "web",
                [next_bin, "start", "-H", "127.0.0.1", "-p", str(web_port)],
                web_env,
                logs,
                f"{web_url}/login",
                cwd=FRONTEND,
            )
        )
        yield {
            "NEURA_WEB_URL": web_url,
            "NEURA_API_URL": api_url,
            "NEURA_E2E_DATABASE_URL": database_url.replace("postgresql+asyncpg://", "postgresql://"),
            "NEURA_E2E_FIXTURES": str(fixtures),
            "NEURA_E2E_LOGS": str(logs),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spawn-redis", action="store_true", help="run a private redis-server")
    parser.add_argument("--logs", type=Path, help="keep the work folder (logs, storage) here")
    parser.add_argument("--web-port", type=int, default=0)
    parser.add_argument("--api-port", type=int, default=0)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- command to run against the stack")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give a command after --")
    work = (args.logs or Path(tempfile.mkdtemp(prefix="neura-e2e-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with stack(work, spawn_redis=args.spawn_redis, web_port=args.web_port, api_port=args.api_port, echo=True) as env:
        print(f"stack ready in {time.monotonic() - started:.1f} s: web {env['NEURA_WEB_URL']}", flush=True)
        status = subprocess.call(command, env={**os.environ, **env}, cwd=FRONTEND)
    if args.logs is None and status == 0:
        shutil.rmtree(work, ignore_errors=True)
    elif status != 0:
        print(f"logs kept in {work / 'logs'}", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
