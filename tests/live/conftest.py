"""Live-session fixtures: the real gateway on loopback (fresh PostgreSQL database, Redis db 9) whose
language model is the fake OpenAI-compatible server, and real aiortc peers.

ICE: aioice leaves loopback out of its host candidates, so the gateway is configured with
``WEBRTC_HOST_ADDRESSES=127.0.0.1`` (process-wide in aioice, so the client peers in this process use
it too); no STUN or TURN server is configured.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from neura.config import Settings
from neura.gateway.app import create_app
from neura.live import LiveManager
from neura.live.peer import use_host_addresses
from tests.fakes.fixtures import openai_server, openai_server_session  # noqa: F401
from tests.fakes.openai_server import FakeOpenAIServer
from tests.live.peer_client import LivePeer
from tests.platform.conftest import METRICS_TOKEN, database_url, redis_url  # noqa: F401
from tests.platform.db import plain_url
from tests.platform.users import TestUser as Account
from tests.platform.users import arrange_account, signup
from tests.servers import free_port, serve_in_thread

T = TypeVar("T")

REPLY_SHORT = "Great question! The ocean is deep, and it is full of life."
REPLY_LONG = (
    "Let me tell you a long story about the sea. The ocean covers most of our planet, and it holds "
    "mountains taller than any on land. Whales sing to each other across hundreds of miles, and tiny "
    "plankton make much of the oxygen that we breathe. Deep down, where sunlight never reaches, strange "
    "creatures glow in the dark to find food and friends. Sailors have told tales about it for thousands "
    "of years, and we still have not explored most of it."
)


def live_settings(db_url: str, redis_db_url: str, llm_url: str, root: Path, *, port: int, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "ENV": "test",
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_db_url,
        "STORAGE_DIR": root / "storage",
        "NEURA_CACHE_DIR": root / "cache",
        "RATE_LIMIT_PER_MINUTE": 10_000,
        "LIVE_SESSIONS_PER_MINUTE": 10_000,
        "LIVE_MESSAGES_PER_MINUTE": 10_000,
        "METRICS_TOKEN": METRICS_TOKEN,
        "LLM_PROVIDER": "lmstudio",
        "LMSTUDIO_BASE_URL": llm_url,
        "LLM_TIMEOUT_S": 10.0,
        "LLM_CONNECT_TIMEOUT_S": 1.0,
        "WEBRTC_HOST_ADDRESSES": "127.0.0.1",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "LIVE_MAX_SESSIONS": 4,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture(scope="session")
def live_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("live")


@dataclass
class Gateway:
    url: str
    app: FastAPI

    @property
    def live(self) -> LiveManager:
        manager = self.app.state.neura.live
        assert isinstance(manager, LiveManager)
        return manager

    def run(self, work: Coroutine[Any, Any, T], timeout_s: float = 10.0) -> T:
        """Run ``work`` on the gateway's event loop (it serves from another thread) and return its result."""
        return asyncio.run_coroutine_threadsafe(work, self.live.loop).result(timeout_s)


@contextmanager
def run_gateway(settings: Settings, port: int) -> Iterator[Gateway]:
    app = create_app(settings)
    with serve_in_thread(app, port=port) as url:
        yield Gateway(url, app)


@contextmanager
def own_gateway(db_url: str, redis_db_url: str, llm_url: str, root: Path, instance_id: str) -> Iterator[Gateway]:
    """A gateway of its own (a fresh process state: no prepared engines, no sessions) for one test."""
    port = free_port()
    settings = live_settings(db_url, redis_db_url, llm_url, root / instance_id, port=port, LIVE_INSTANCE_ID=instance_id)
    with run_gateway(settings, port) as gateway:
        yield gateway


@pytest.fixture(scope="session")
def main_gateway(
    database_url: str,  # noqa: F811
    redis_url: str,  # noqa: F811
    openai_server_session: FakeOpenAIServer,  # noqa: F811
    live_root: Path,
) -> Iterator[Gateway]:
    """The real gateway with live sessions, shared by the live tests."""
    use_host_addresses(["127.0.0.1"])
    port = free_port()
    settings = live_settings(
        database_url, redis_url, openai_server_session.base_url, live_root, port=port, LIVE_INSTANCE_ID="gw-main"
    )
    with run_gateway(settings, port) as gateway:
        yield gateway


@pytest.fixture(scope="session")
def live_gateway(main_gateway: Gateway) -> str:
    return main_gateway.url


@pytest.fixture
async def http(live_gateway: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_gateway, timeout=60.0) as client:
        yield client


@pytest.fixture
def user(live_gateway: str) -> Account:
    with httpx.Client(base_url=live_gateway, timeout=30.0) as client:
        return signup(client)


async def set_account(db_url: str, user: Account, *, plan: str | None = None, credits: int | None = None) -> None:
    """Test set-up only: the plan and balance of a user (through the ledger, as ``neura users`` does)."""
    await arrange_account(db_url, user, plan=plan, credits=credits)


async def db_value(db_url: str, sql: str, *args: Any) -> Any:
    connection = await asyncpg.connect(plain_url(db_url))
    try:
        return await connection.fetchval(sql, *args)
    finally:
        await connection.close()


async def open_session(http: httpx.AsyncClient, user: Account, **body: Any) -> str:
    response = await http.post("/v1/live/sessions", json=body, headers=user.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.fixture
async def connected(http: httpx.AsyncClient, user: Account) -> AsyncIterator[tuple[LivePeer, str]]:
    """A session of ``user`` with a connected peer; deleted afterwards."""
    session_id = await open_session(http, user)
    peer = LivePeer()
    try:
        await peer.connect(http, session_id, user.headers)
        yield peer, session_id
    finally:
        await peer.close()
        await http.delete(f"/v1/live/sessions/{session_id}", headers=user.headers)


async def closed_state(http: httpx.AsyncClient, session_id: str, headers: dict[str, str]) -> dict[str, Any]:
    """GET the session until it reports "closed" (its teardown takes a moment after the "closed" notice)."""
    for _ in range(100):
        state: dict[str, Any] = (await http.get(f"/v1/live/sessions/{session_id}", headers=headers)).json()
        if state["status"] == "closed":
            return state
        await asyncio.sleep(0.05)
    raise AssertionError(f"session {session_id} did not close: {state}")


@pytest.fixture
def frozen_heap() -> Iterator[None]:
    """What the live server does once its engines are warm (LiveEngines.warm_up), and a gateway that owns
    its process once started: the heap built so far is frozen (after a collection: no garbage kept), so
    a full garbage collection scans only what sessions allocate. Unfrozen, a collection of this test
    process, which by then holds the earlier tests' objects, stalled the event loop for 0.4-0.7 s on a
    loaded machine: enough to break real-time tests (media pacing, the echo of the avatar's voice)."""
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()
