"""``neura serve --workers 2``: two processes on one port, a live session in one of them. Requests for
the session land on either; the other forwards them to the owner's own port (LIVE_INTERNAL_URL on
port 0), so every one is answered by the process that runs the session."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.fakes.openai_server import FakeOpenAIServer
from tests.live.conftest import closed_state, set_account
from tests.platform.users import signup
from tests.servers import free_port, stop_process

OWN_REDIS_DB = "/13"
NEURA = str(Path(sys.executable).with_name("neura"))


@pytest.fixture(scope="module")
def two_workers(
    database_url: str, redis_url: str, openai_server_session: FakeOpenAIServer, live_root: Path
) -> Iterator[str]:
    own_redis = redis_url.rsplit("/", 1)[0] + OWN_REDIS_DB
    redis.Redis.from_url(own_redis).flushdb()
    port = free_port()
    env = {
        **os.environ,
        "ENV": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": own_redis,
        "STORAGE_DIR": str(live_root / "workers" / "storage"),
        "NEURA_CACHE_DIR": str(live_root / "cache"),
        "RATE_LIMIT_PER_MINUTE": "10000",
        "LLM_PROVIDER": "lmstudio",
        "LMSTUDIO_BASE_URL": openai_server_session.base_url,
        "WEBRTC_HOST_ADDRESSES": "127.0.0.1",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "LIVE_MAX_SESSIONS": "2",
        "LIVE_HEARTBEAT_S": "0.5",
    }
    env.pop("LIVE_INTERNAL_URL", None)
    command = [NEURA, "serve", "--workers", "2", "--port", str(port)]
    log = live_root / "workers" / "serve.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        client = redis.Redis.from_url(own_redis)
        deadline = time.monotonic() + 90
        while client.scard("neura:live:instances") < 2:  # both processes have registered their own port
            assert process.poll() is None, f"neura serve exited: {log.read_text(errors='replace')[-2000:]}"
            assert time.monotonic() < deadline, "the two worker processes did not register"
            time.sleep(0.2)
        yield url
    finally:
        stop_process(process, timeout_s=20)
        redis.Redis.from_url(own_redis).flushdb()  # nothing left behind


def registered_urls(redis_url: str) -> set[str]:
    client = redis.Redis.from_url(redis_url.rsplit("/", 1)[0] + OWN_REDIS_DB, decode_responses=True)
    return {client.hget(f"neura:live:instance:{i}", "url") or "" for i in client.smembers("neura:live:instances")}


async def test_every_request_for_a_session_reaches_the_process_that_runs_it(
    two_workers: str, redis_url: str, database_url: str
) -> None:
    urls = registered_urls(redis_url)
    assert len(urls) == 2 and all(u.startswith("http://127.0.0.1:") for u in urls), urls
    assert two_workers not in urls, "each process registers its own port, not the shared one"

    with httpx.Client(base_url=two_workers, timeout=30) as client:
        user = signup(client)
    await set_account(database_url, user, plan="pro")
    async with httpx.AsyncClient(base_url=two_workers, timeout=30) as http:
        created = await http.post("/v1/live/sessions", json={}, headers=user.headers)
        assert created.status_code == 201, created.text
        session_id = created.json()["id"]
        # Each process answers on its own port too: the one without the session must forward there.
        for url in urls:
            async with httpx.AsyncClient(base_url=url, timeout=30) as direct:
                answer = await direct.get(f"/v1/live/sessions/{session_id}", headers=user.headers)
                assert answer.status_code == 200, f"{url}: {answer.text}"
                assert answer.json()["id"] == session_id
        # On the shared port the kernel spreads new connections over both processes.
        for _ in range(8):
            async with httpx.AsyncClient(base_url=two_workers, timeout=30) as fresh:
                answer = await fresh.get(f"/v1/live/sessions/{session_id}", headers=user.headers)
                assert answer.status_code == 200, answer.text
                assert answer.json()["id"] == session_id
        ended = await http.delete(f"/v1/live/sessions/{session_id}", headers=user.headers)
        assert ended.status_code == 204, ended.text
        await closed_state(http, session_id, user.headers)  # answered whichever process takes it


def test_several_workers_refuse_an_internal_url_with_a_fixed_port(tmp_path: Path) -> None:
    env = {**os.environ, "ENV": "test", "LIVE_INTERNAL_URL": "http://127.0.0.1:8123", "LIVE_MAX_SESSIONS": "2"}
    result = subprocess.run(
        [NEURA, "serve", "--workers", "2", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 78, result.stderr
    assert "port 0" in result.stderr


async def test_an_own_listener_on_every_interface_registers_this_hosts_address() -> None:
    from urllib.parse import urlsplit

    from starlette.types import Receive, Scope, Send

    from neura.gateway.listener import OwnListener, _own_address

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"this process"})

    listener = OwnListener(app, "http://0.0.0.0:0")
    await listener.start()
    try:
        parts = urlsplit(listener.url)
        assert parts.hostname == _own_address() and parts.port and parts.port > 0
        async with httpx.AsyncClient() as client:  # every interface: loopback answers too
            answer = await client.get(f"http://127.0.0.1:{parts.port}/")
        assert answer.status_code == 200 and answer.text == "this process"
    finally:
        await listener.stop()
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as client:
            await client.get(f"http://127.0.0.1:{parts.port}/")
