"""Rolling restart under load: every process of a small cluster restarted one by one, nothing lost.

    .venv/bin/python bench/rolling.py [--clients 2] [--sessions 2] [--video-every-s 4] [--settle-s 5]

On this machine: 2 API processes (``neura serve --role api``), 2 media processes (``--role media``) and
2 workers (``neura worker``) on a fresh PostgreSQL database and their own Redis database, a local fake
language model, and clients given the list of API processes (an httpx transport that sends each request
to the next one, and to another one only when a connection is refused: the request never began there;
no keep-alive, so no request is written into a connection that a stopping server is closing; and, as
nginx's ``proxy_next_upstream error`` does, a GET, HEAD or OPTIONS that the server closed without a
byte of response, which a stopping server does to a connection it had not accepted yet, goes to the next
process: it is counted in ``retried_requests``, and never a POST). The load
is bounded: ``--clients`` loops of API calls (``GET /v1/me``, ``GET /v1/videos``, ``GET /v1/voices``
which the API forwards to a media process), a video job every ``--video-every-s`` (espeak, 512x512), and
``--sessions`` live sessions (real aiortc peers) that say something every few seconds and open a new
session when theirs ends. Meanwhile each process in turn gets SIGTERM, is waited for and replaced by a
new one on its port, and the next restart waits ``--settle-s`` after the new one is ready.

Counted: requests sent and failed (a 5xx or a connection error of a request that was sent), videos
that did not succeed in the end (lost), videos charged twice (two reserve or settle rows in the ledger),
live sessions that ended without a ``draining`` notice first. The last line is one JSON object with
``failed_requests``, ``jobs_lost``, ``jobs_charged_twice`` and ``sessions_dropped_without_notice``
(targets: all 0). Only 127.0.0.1 is contacted; everything started is stopped and the database dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.live import REPLY, fresh_database, new_account, process  # noqa: E402
from tests.live.peer_client import LivePeer  # noqa: E402
from tests.platform.db import plain_url  # noqa: E402
from tests.servers import free_port, stop_process  # noqa: E402

from neura.live.peer import use_host_addresses  # noqa: E402

REDIS_URL = os.environ.get("NEURA_BENCH_ROLLING_REDIS_URL", "redis://127.0.0.1:6379/15")
SCRIPT = "Hello! This short video is rendered while the cluster restarts."
START_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 120.0


@dataclass
class Counts:
    requests_sent: int = 0
    failed_requests: int = 0
    retried_requests: int = 0  # idempotent requests a stopping process closed unanswered, sent to the next
    failures: list[str] = field(default_factory=list)  # what failed, and when (seconds into the run)
    notes: list[str] = field(default_factory=list)  # not failures: a plan's limit, a session that ended
    videos: list[str] = field(default_factory=list)
    videos_refused: int = 0  # 429: the plan's videos in progress were all taken (a bounded load, not a failure)
    sessions_opened: int = 0
    sessions_drained_with_notice: int = 0
    sessions_dropped_without_notice: int = 0
    messages_said: int = 0
    started_s: float = field(default_factory=time.monotonic)
    restarting: str = ""  # the member being restarted now

    def when(self) -> str:
        return f"at {time.monotonic() - self.started_s:.1f} s" + (f" ({self.restarting})" if self.restarting else "")

    def failed(self, what: str) -> None:
        self.failed_requests += 1
        self.failures.append(f"{what} {self.when()}")


IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})


class Balancing(httpx.AsyncBaseTransport):
    """Each request to the next API process; to the one after it only when the connection is refused, or
    when an idempotent request's connection was closed before any response (see the module docstring)."""

    def __init__(self, ports: list[int], counts: Counts) -> None:
        self.ports = ports
        self.counts = counts
        self.inner = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_keepalive_connections=0))
        self._turn = itertools.count()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.counts.requests_sent += 1
        first = next(self._turn)
        for step in range(len(self.ports)):
            request.url = request.url.copy_with(host="127.0.0.1", port=self.ports[(first + step) % len(self.ports)])
            try:
                response = await self.inner.handle_async_request(request)
            except httpx.ConnectError:
                continue  # refused: this process is restarting, and nothing was sent to it
            except httpx.RemoteProtocolError:
                if request.method not in IDEMPOTENT:
                    self.counts.failed(f"{request.method} {request.url.path}: RemoteProtocolError")
                    raise
                self.counts.retried_requests += 1  # closed unanswered by a stopping process: safe to resend
                continue
            except httpx.HTTPError as exc:
                self.counts.failed(f"{request.method} {request.url.path}: {type(exc).__name__}")
                raise
            if response.status_code >= 500:
                self.counts.failed(f"{request.method} {request.url.path}: {response.status_code}")
            return response
        self.counts.failed(f"{request.method} {request.url.path}: every API process refused the connection")
        raise httpx.ConnectError("every API process refused the connection", request=request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class Member:
    """One process of the cluster, restarted in place (same port, same settings)."""

    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    ready_url: str | None  # None: a worker, ready when it says so
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        ready_lines = self._ready_lines()
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._ready(ready_lines):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start; see {self.log}")
            time.sleep(0.2)

    def _ready_lines(self) -> int:
        """How many times a worker said it was ready in this log (each start appends)."""
        return self.log.read_text(errors="replace").count(" ready (concurrency") if self.log.exists() else 0

    def _ready(self, ready_lines_before: int) -> bool:
        if self.ready_url is None:
            return self._ready_lines() > ready_lines_before
        try:
            return httpx.get(self.ready_url, timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    def restart(self) -> float:
        """SIGTERM, wait, start a new one; returns how long the old one took to drain and exit."""
        assert self.proc is not None
        started_s = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=STOP_TIMEOUT_S)
        drained_s = time.monotonic() - started_s
        self.start()
        return drained_s

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, timeout_s=STOP_TIMEOUT_S)


async def api_load(http: httpx.AsyncClient, headers: dict[str, str], stop: asyncio.Event) -> None:
    paths = itertools.cycle(["/v1/me", "/v1/videos", "/v1/voices"])
    while not stop.is_set():
        with contextlib.suppress(httpx.HTTPError):  # counted by the transport
            await http.get(next(paths), headers=headers)
        await asyncio.sleep(0.1)


async def video_load(
    http: httpx.AsyncClient, headers: dict[str, str], counts: Counts, every_s: float, stop: asyncio.Event
) -> None:
    while not stop.is_set():
        body = {"script": SCRIPT, "voice": "espeak", "resolution": "512"}
        try:
            answer = await http.post("/v1/videos", json=body, headers=headers)
            if answer.status_code == 202:
                counts.videos.append(answer.json()["id"])
            elif answer.status_code == 429:
                counts.videos_refused += 1
            elif answer.status_code < 500:
                counts.notes.append(f"POST /v1/videos: {answer.status_code} {answer.text[:200]}")
        except httpx.HTTPError:
            pass
        await asyncio.sleep(every_s)


async def live_load(http: httpx.AsyncClient, headers: dict[str, str], counts: Counts, stop: asyncio.Event) -> None:
    """One session at a time: talk every few seconds; when the session ends, open another."""
    while not stop.is_set():
        try:
            created = await http.post("/v1/live/sessions", json={}, headers=headers)
        except httpx.HTTPError:
            await asyncio.sleep(1.0)
            continue
        if created.status_code != 201:
            counts.notes.append(f"POST /v1/live/sessions: {created.status_code} {created.text[:200]}")
            await asyncio.sleep(1.0)
            continue
        session_id = created.json()["id"]
        peer = LivePeer()
        try:
            await peer.connect(http, session_id, headers, timeout_s=30)
        except (AssertionError, httpx.HTTPError, TimeoutError) as exc:
            counts.notes.append(f"connect {session_id}: {type(exc).__name__} {exc} {counts.when()}")
            await peer.close()
            continue
        counts.sessions_opened += 1
        await converse(peer, counts, stop, functools.partial(still_open, http, session_id, headers))
        ended = peer.messages_of("closed")
        if not ended and stop.is_set():
            await http.delete(f"/v1/live/sessions/{session_id}", headers=headers)
        elif peer.messages_of("draining"):
            counts.sessions_drained_with_notice += 1
        else:
            counts.sessions_dropped_without_notice += 1
            how = f"closed ({ended[-1]['reason']})" if ended else "stopped answering pings"
            counts.notes.append(f"session {session_id} {how} without a draining notice {counts.when()}")
        await peer.close()


async def still_open(http: httpx.AsyncClient, session_id: str, headers: dict[str, str]) -> bool:
    """What the server says of a session whose peer went quiet (a loaded machine answers pings late)."""
    try:
        answer = await http.get(f"/v1/live/sessions/{session_id}", headers=headers)
    except httpx.HTTPError:
        return False
    return answer.status_code == 200 and answer.json().get("status") == "open"


async def converse(
    peer: LivePeer, counts: Counts, stop: asyncio.Event, still_open: Callable[[], Awaitable[bool]]
) -> None:
    """Say something every few seconds until the session ends, or stops answering pings and the server
    says it is gone, or the run ends."""
    for index in itertools.count():
        if stop.is_set() or peer.messages_of("closed") or peer.channel.readyState != "open":
            return  # the run is over, or the session ended (how: the caller counts it)
        if index % 4 == 0 and not peer.messages_of("draining"):
            peer.say(f"Tell me something about the sea ({index}).")
            counts.messages_said += 1
        mark = len(peer.messages)
        peer.send({"type": "ping", "id": index})
        try:
            await peer.wait_for(lambda m: m["type"] in ("pong", "closed"), after=mark, timeout_s=30.0)
        except TimeoutError:
            if not await still_open():
                return  # gone without a word (counted by the caller)
        await asyncio.sleep(1.0)


async def ledger_problems(database_url: str, video_ids: list[str]) -> tuple[int, int, dict[str, int]]:
    """(videos not succeeded, videos with a doubled ledger row, statuses)."""
    connection = await asyncpg.connect(plain_url(database_url))
    try:
        ids = [uuid.UUID(v) for v in video_ids]
        rows = await connection.fetch("SELECT status, count(*) FROM videos WHERE id = ANY($1) GROUP BY status", ids)
        doubled = await connection.fetchval(
            "SELECT count(DISTINCT video_id) FROM (SELECT video_id FROM credit_ledger WHERE video_id = ANY($1)"
            " GROUP BY video_id, reason HAVING count(*) > 1) AS twice",
            ids,
        )
    finally:
        await connection.close()
    statuses = {row["status"]: int(row["count"]) for row in rows}
    return len(video_ids) - statuses.get("succeeded", 0), int(doubled), statuses


async def wait_for_videos(database_url: str, video_ids: list[str], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        connection = await asyncpg.connect(plain_url(database_url))
        try:
            open_jobs = await connection.fetchval(
                "SELECT count(*) FROM videos WHERE id = ANY($1) AND status IN ('queued', 'running')",
                [uuid.UUID(v) for v in video_ids],
            )
        finally:
            await connection.close()
        if open_jobs == 0:
            return
        await asyncio.sleep(1.0)


async def run(
    args: argparse.Namespace, members: list[Member], api_ports: list[int], restarted: list[Member]
) -> dict[str, Any]:
    counts = Counts()
    stop = asyncio.Event()
    transport = Balancing(api_ports, counts)
    async with httpx.AsyncClient(base_url="http://cluster", transport=transport, timeout=60.0) as http:
        headers = await new_account(http, args.database_url)
        load = [asyncio.create_task(api_load(http, headers, stop)) for _ in range(args.clients)]
        load.append(asyncio.create_task(video_load(http, headers, counts, args.video_every_s, stop)))
        load += [asyncio.create_task(live_load(http, headers, counts, stop)) for _ in range(args.sessions)]
        await asyncio.sleep(args.settle_s)
        drains: dict[str, float] = {}
        for member in restarted:
            print(f"restarting {member.name} {counts.when()} ...", flush=True)
            counts.restarting = member.name
            drains[member.name] = round(await asyncio.to_thread(member.restart), 1)
            counts.restarting = ""
            print(f"  {member.name}: drained and exited in {drains[member.name]} s; its successor is ready", flush=True)
            await asyncio.sleep(args.settle_s)
        stop.set()
        await asyncio.gather(*load)
    await wait_for_videos(args.database_url, counts.videos, timeout_s=180.0)
    lost, twice, statuses = await ledger_problems(args.database_url, counts.videos)
    return {
        "requests_sent": counts.requests_sent,
        "failed_requests": counts.failed_requests,
        "retried_requests": counts.retried_requests,
        "videos_submitted": len(counts.videos),
        "videos_refused_by_plan": counts.videos_refused,
        "video_statuses": statuses,
        "jobs_lost": lost,
        "jobs_charged_twice": twice,
        "live_sessions": counts.sessions_opened,
        "live_messages": counts.messages_said,
        "sessions_drained_with_notice": counts.sessions_drained_with_notice,
        "sessions_dropped_without_notice": counts.sessions_dropped_without_notice,
        "drain_s": drains,
        "failures": counts.failures[:20],
        "notes": counts.notes[:20],
    }


def cluster(
    folder: Path,
    database_url: str,
    llm_port: int,
    redis_url: str,
    sizes: tuple[int, int, int] = (2, 2, 2),
    media_drain_s: float = 15.0,
) -> tuple[list[Member], list[int]]:
    """``sizes``: how many API processes, media processes and workers; ``media_drain_s``: how long a
    media process lets its sessions' turns finish when it stops."""
    apis, medias, workers = sizes
    base = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "PYTHONUNBUFFERED": "1",
        "ENV": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "STORAGE_DIR": str(folder / "storage"),
        "NEURA_CACHE_DIR": str(folder / "cache"),
        "RATE_LIMIT_PER_MINUTE": "100000",
        "LIVE_SESSIONS_PER_MINUTE": "10000",
        "LIVE_MESSAGES_PER_MINUTE": "10000",
        "SPEECH_PER_MINUTE": "10000",
        "LLM_PROVIDER": "lmstudio",
        "LMSTUDIO_BASE_URL": f"http://127.0.0.1:{llm_port}/v1",
        "WEBRTC_HOST_ADDRESSES": "127.0.0.1",
        "WORKER_HEARTBEAT_S": "1",
        "LIVE_HEARTBEAT_S": "1",
        "CAPABILITY_TTL_S": "6",
        "DRAIN_UNREADY_S": "1",
        "LIVE_PEER_TIMEOUT_S": "30",  # a machine this loaded answers ICE consent checks late
    }
    cli = [sys.executable, "-m", "neura.cli"]
    api_ports, media_ports = [free_port() for _ in range(apis)], [free_port() for _ in range(medias)]
    members = []
    for index, port in enumerate(api_ports):
        env = {**base, "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
        args = [*cli, "serve", "--role", "api", "--port", str(port)]
        members.append(
            Member(f"api-{index}", args, env, folder / f"api-{index}.log", f"http://127.0.0.1:{port}/readyz")
        )
    for index, port in enumerate(media_ports):
        url = f"http://127.0.0.1:{port}"
        env = {**base, "PUBLIC_BASE_URL": url, "LIVE_INTERNAL_URL": url, "DRAIN_TIMEOUT_S": str(media_drain_s)}
        args = [*cli, "serve", "--role", "media", "--port", str(port)]
        members.append(Member(f"media-{index}", args, env, folder / f"media-{index}.log", f"{url}/readyz"))
    for index in range(workers):
        env = {**base, "DRAIN_TIMEOUT_S": "60"}
        members.append(Member(f"worker-{index}", [*cli, "worker"], env, folder / f"worker-{index}.log", None))
    return members, api_ports


def rolling(
    args: argparse.Namespace,
    *,
    redis_url: str = REDIS_URL,
    sizes: tuple[int, int, int] = (2, 2, 2),
    restart: Callable[[Member], bool] = lambda member: True,
    media_drain_s: float = 15.0,
) -> dict[str, Any]:
    """Start the cluster (``sizes``: API processes, media processes, workers) on a fresh database and
    ``redis_url``'s database (flushed before and after), put it under load, restart the members that
    ``restart`` picks one by one, stop everything; returns the counts (:func:`run`)."""
    use_host_addresses(["127.0.0.1"])
    redis.Redis.from_url(redis_url).flushdb()
    started_s = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="neura-bench-rolling-") as tmp, fresh_database() as database_url:
        args.database_url = database_url
        folder = Path(tmp)
        (folder / "reply.txt").write_text(REPLY, encoding="utf-8")
        llm_port = free_port()
        fake = [sys.executable, "-m", "tests.fakes.openai_server", "--port", str(llm_port)]
        fake += ["--reply-file", str(folder / "reply.txt"), "--ttft-ms", "50", "--tokens-per-s", "80"]
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        members, api_ports = cluster(folder, database_url, llm_port, redis_url, sizes, media_drain_s)
        with process(fake, env, folder / "llm.log", f"http://127.0.0.1:{llm_port}/v1/models"):
            try:
                for member in members:
                    member.start()
                results = asyncio.run(run(args, members, api_ports, [m for m in members if restart(m)]))
            finally:
                for member in members:
                    member.stop()
                if os.environ.get("NEURA_BENCH_KEEP_LOGS"):
                    for log in folder.glob("*.log"):
                        print(f"--- {log.name}\n{log.read_text(errors='replace')[-4000:]}")
    redis.Redis.from_url(redis_url).flushdb()
    results["duration_s"] = round(time.monotonic() - started_s, 1)
    results["load_average"] = [round(x, 2) for x in os.getloadavg()]
    return results


def options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=2, help="loops of API calls")
    parser.add_argument("--sessions", type=int, default=2, help="live sessions open at a time")
    parser.add_argument("--video-every-s", type=float, default=6.0)
    parser.add_argument("--settle-s", type=float, default=5.0, help="load before, between and after restarts")
    return parser.parse_args(argv)


def main() -> None:
    results = rolling(options())
    for key in ("requests_sent", "failed_requests", "videos_submitted", "jobs_lost", "jobs_charged_twice"):
        print(f"{key:34} {results[key]}")
    for key in ("live_sessions", "sessions_drained_with_notice", "sessions_dropped_without_notice"):
        print(f"{key:34} {results[key]}")
    for failure in results["failures"]:
        print(f"  failed: {failure}")
    for note in results["notes"]:
        print(f"  note: {note}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
