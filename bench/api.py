"""API load benchmark: the real gateway on loopback, driven by an asyncio + httpx load generator.

    .venv/bin/python bench/api.py [--clients 8] [--signups 32] [--jobs 200] [--read-s 15] [--max-s 180]

It creates a fresh PostgreSQL database (migrated to head) and uses its own Redis database, starts the
gateway in a uvicorn subprocess with ENV=test, and measures:

- signup latency (``POST /v1/auth/signup``, argon2id hashing included), ``--signups`` of them from
  ``--clients`` concurrent clients;
- job submission latency (``POST /v1/videos`` -> 202: checked against the plan, credits reserved, row
  committed, job queued in Redis). No worker runs: each client cancels its video before the next one
  (the free plan renders one at a time), and the cancellation is not timed;
- requests per second of a mixed read workload (``GET /v1/me`` and ``GET /v1/videos`` alternately) from
  ``--clients`` concurrent clients for ``--read-s`` seconds.

Every phase is bounded in count and time (``--max-s`` for the whole run); everything it started is
stopped and its database dropped at the end. Only 127.0.0.1 is contacted. The last line printed is one
JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.servers import free_port, stop_process, wait_until_ready  # noqa: E402

from neura.db.migrate import upgrade  # noqa: E402

PG_ADMIN_URL = os.environ.get("NEURA_BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("NEURA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
PASSWORD = "correct horse battery staple"
SCRIPT = "Hello! This is a short benchmark video."


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


@dataclass
class Timings:
    name: str
    latencies_s: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1

    def percentile_ms(self, q: float) -> float:
        if not self.latencies_s:
            return float("nan")
        ordered = sorted(self.latencies_s)
        index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
        return ordered[index] * 1000

    @property
    def per_s(self) -> float:
        return len(self.latencies_s) / self.elapsed_s if self.elapsed_s else 0.0

    def row(self) -> str:
        errors = ", ".join(f"{k}: {v}" for k, v in self.errors.items()) or "-"
        return (
            f"{self.name:<26} {len(self.latencies_s):>6} {self.percentile_ms(50):>9.1f} {self.percentile_ms(99):>9.1f}"
            f" {self.per_s:>9.1f}   {errors}"
        )


# --- the system under test


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


class Gateway:
    """A fresh database and Redis db, and ``neura``'s gateway in a uvicorn subprocess on loopback."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self.database = f"neura_bench_{uuid.uuid4().hex[:10]}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.folder = tempfile.TemporaryDirectory(prefix="neura-bench-")

    def __enter__(self) -> Gateway:
        asyncio.run(_admin(f'CREATE DATABASE "{self.database}"'))
        try:
            base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
            database_url = f"{base}/{self.database}"
            upgrade(database_url)
            redis.Redis.from_url(REDIS_URL).flushdb()
            env = {
                **os.environ,
                "ENV": "test",
                "DATABASE_URL": database_url,
                "REDIS_URL": REDIS_URL,
                "STORAGE_DIR": f"{self.folder.name}/storage",
                "NEURA_CACHE_DIR": f"{self.folder.name}/cache",
                "RATE_LIMIT_PER_MINUTE": "1000000",
                "SIGNUP_CREDITS": "100000",
            }
            command = [
                sys.executable, "-m", "uvicorn", "neura.gateway.app:app_from_environment", "--factory",
                "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.processes),
                "--log-level", "warning", "--no-access-log",
            ]  # fmt: skip
            self.process = subprocess.Popen(command, env=env, cwd=self.folder.name)
            wait_until_ready(self.process, f"{self.url}/readyz", timeout_s=60)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            stop_process(self.process)
        with contextlib.suppress(Exception):  # best-effort cleanup: report nothing, leave nothing
            redis.Redis.from_url(REDIS_URL).flushdb()
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))
        self.folder.cleanup()


# --- the load


async def _timed(timings: Timings, request: Awaitable[httpx.Response], expected: int) -> httpx.Response:
    started = time.perf_counter()  # the request starts when awaited, just below
    try:
        response = await request
    except httpx.HTTPError as exc:
        timings.error(type(exc).__name__)
        raise
    if response.status_code == expected:
        timings.latencies_s.append(time.perf_counter() - started)
    else:
        timings.error(str(response.status_code))
    return response


async def signups(http: httpx.AsyncClient, count: int, clients: int, deadline: float) -> tuple[Timings, list[str]]:
    timings, tokens = Timings("signup"), []
    remaining = iter(range(count))

    async def client() -> None:
        for _ in remaining:
            if time.monotonic() > deadline:
                return
            body = {"email": f"bench-{uuid.uuid4().hex[:12]}@example.com", "password": PASSWORD}
            response = await _timed(timings, http.post("/v1/auth/signup", json=body), 201)
            if response.status_code == 201:
                tokens.append(response.json()["access_token"])

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    timings.elapsed_s = time.perf_counter() - started
    return timings, tokens


async def submissions(http: httpx.AsyncClient, tokens: list[str], count: int, deadline: float) -> Timings:
    timings = Timings("job submit (POST /v1/videos)")
    remaining = iter(range(count))

    async def client(token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        body = {"script": SCRIPT, "resolution": "512"}
        for _ in remaining:
            if time.monotonic() > deadline:
                return
            response = await _timed(timings, http.post("/v1/videos", json=body, headers=headers), 202)
            if response.status_code != 202:
                return  # the route is missing or refuses: counted, and this client stops
            video_id = response.json()["id"]
            await http.post(f"/v1/videos/{video_id}/cancel", headers=headers)  # frees the plan's one slot

    started = time.perf_counter()
    await asyncio.gather(*(client(token) for token in tokens))
    timings.elapsed_s = time.perf_counter() - started
    return timings


async def reads(http: httpx.AsyncClient, tokens: list[str], duration_s: float, max_requests: int) -> Timings:
    timings = Timings("mixed reads (me, videos)")
    paths = ("/v1/me", "/v1/videos?limit=20")
    stop_at = time.monotonic() + duration_s
    budget = iter(range(max_requests))

    async def client(index: int, token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        turn = index
        for _ in budget:
            if time.monotonic() > stop_at:
                return
            path = paths[turn % 2]
            turn += 1
            with contextlib.suppress(httpx.HTTPError):
                await _timed(timings, http.get(path, headers=headers), 200)

    started = time.perf_counter()
    await asyncio.gather(*(client(i, token) for i, token in enumerate(tokens)))
    timings.elapsed_s = time.perf_counter() - started
    return timings


async def drive(url: str, args: argparse.Namespace) -> list[Timings]:
    deadline = time.monotonic() + args.max_s
    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
    async with httpx.AsyncClient(base_url=url, timeout=30.0, limits=limits) as http:
        signup_timings, tokens = await signups(http, max(args.signups, args.clients), args.clients, deadline)
        if len(tokens) < args.clients:
            raise RuntimeError(f"only {len(tokens)} signups succeeded: {signup_timings.errors}")
        clients = tokens[: args.clients]
        submit_timings = await submissions(http, clients, args.jobs, deadline)
        read_s = max(1.0, min(args.read_s, deadline - time.monotonic()))
        read_timings = await reads(http, clients, read_s, args.max_reads)
    return [signup_timings, submit_timings, read_timings]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (connections)")
    parser.add_argument("--signups", type=int, default=32, help="signups to time (at least --clients)")
    parser.add_argument("--jobs", type=int, default=200, help="video submissions to time")
    parser.add_argument("--read-s", type=float, default=15.0, help="seconds of the mixed read workload")
    parser.add_argument("--max-reads", type=int, default=50_000, help="at most this many read requests")
    parser.add_argument("--processes", type=int, default=1, help="gateway processes (uvicorn --workers)")
    parser.add_argument("--max-s", type=float, default=180.0, help="stop every phase after this long")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    with Gateway(args.processes) as gateway:
        signup, submit, read = asyncio.run(drive(gateway.url, args))
    load_after = os.getloadavg()[0]

    print(f"NEURA API on loopback: {args.clients} concurrent clients, {args.processes} gateway process(es)")
    print(f"machine: {machine()}; load average {load_before:.1f} before, {load_after:.1f} after\n")
    print(f"{'':<26} {'count':>6} {'p50 ms':>9} {'p99 ms':>9} {'req/s':>9}   errors")
    for timings in (signup, submit, read):
        print(timings.row())
    result = {
        "signup_p50_ms": round(signup.percentile_ms(50), 1),
        "job_submit_p50_ms": round(submit.percentile_ms(50), 1),
        "job_submit_p99_ms": round(submit.percentile_ms(99), 1),
        "requests_per_s": round(read.per_s, 1),
        "read_p50_ms": round(read.percentile_ms(50), 1),
        "read_p99_ms": round(read.percentile_ms(99), 1),
        "signups": len(signup.latencies_s),
        "jobs_submitted": len(submit.latencies_s),
        "reads": len(read.latencies_s),
        "errors": {t.name: t.errors for t in (signup, submit, read) if t.errors},
        "clients": args.clients,
        "gateway_processes": args.processes,
        "machine": machine(),
        "load_avg_1m": [round(load_before, 1), round(load_after, 1)],  # a shared machine: other work skews it
    }
    print(json.dumps(result))
    if not (signup.latencies_s and submit.latencies_s and read.latencies_s):
        sys.exit(1)  # a phase measured nothing: the JSON line above says which failed


if __name__ == "__main__":
    main()
