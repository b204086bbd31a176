"""Two gateway instances on two ports sharing PostgreSQL and Redis: a session lives on the instance
that created it, and the other forwards its signalling there. Also on this pair, with short periods:
idle timeout, and credits running out during a session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.fakes.openai_server import FakeOpenAIServer
from tests.live.conftest import (
    REPLY_SHORT,
    Gateway,
    closed_state,
    live_settings,
    open_session,
    run_gateway,
    set_account,
)
from tests.live.peer_client import LivePeer
from tests.platform.users import TestUser as Account
from tests.platform.users import signup
from tests.servers import free_port

IDLE_TIMEOUT_S = 3.0
BILLING_PERIOD_S = 1.5


@pytest.fixture(scope="module")
def pair(
    database_url: str, redis_url: str, openai_server_session: FakeOpenAIServer, live_root: Path
) -> Iterator[tuple[Gateway, Gateway]]:
    """Instances "gw-a" and "gw-b" (capacity 2 and 0) on their own Redis database."""
    own_redis = redis_url.rsplit("/", 1)[0] + "/10"
    redis.Redis.from_url(own_redis).flushdb()
    ports = free_port(), free_port()
    common = {
        "LIVE_IDLE_TIMEOUT_S": IDLE_TIMEOUT_S,
        "LIVE_BILLING_PERIOD_S": BILLING_PERIOD_S,
        "LIVE_HEARTBEAT_S": 0.5,
    }
    settings = [
        live_settings(
            database_url,
            own_redis,
            openai_server_session.base_url,
            live_root / name,
            port=port,
            LIVE_INSTANCE_ID=name,
            LIVE_INTERNAL_URL=f"http://127.0.0.1:{port}",
            LIVE_MAX_SESSIONS=capacity,
            **common,
        )
        for name, port, capacity in (("gw-a", ports[0], 2), ("gw-b", ports[1], 0))
    ]
    try:
        with run_gateway(settings[0], ports[0]) as a, run_gateway(settings[1], ports[1]) as b:
            yield a, b
    finally:
        redis.Redis.from_url(own_redis).flushdb()  # nothing left behind


@pytest.fixture
async def pair_user(pair: tuple[Gateway, Gateway], database_url: str) -> Account:
    with httpx.Client(base_url=pair[0].url, timeout=30) as client:
        user = signup(client)
    await set_account(database_url, user, plan="pro")
    return user


async def test_the_instance_without_the_session_forwards_its_signalling(
    pair: tuple[Gateway, Gateway], pair_user: Account, openai_server: FakeOpenAIServer
) -> None:
    a, b = pair
    openai_server.behaviour.replies = [REPLY_SHORT]
    async with (
        httpx.AsyncClient(base_url=a.url, timeout=60) as on_a,
        httpx.AsyncClient(base_url=b.url, timeout=60) as on_b,
    ):
        session_id = await open_session(on_a, pair_user)
        assert a.live.local(uuid.UUID(session_id)) is not None

        async with LivePeer() as peer:
            await peer.connect(on_b, session_id, pair_user.headers)  # the offer goes to gw-b, the peer to gw-a
            reply = await on_b.post(
                f"/v1/live/sessions/{session_id}/messages", json={"text": "Hi!"}, headers=pair_user.headers
            )
            assert reply.status_code == 202, reply.text
            await peer.wait_for(lambda m: m["type"] == "state" and m["state"] == "speaking")
            stopped = await on_b.post(f"/v1/live/sessions/{session_id}/interrupt", headers=pair_user.headers)
            assert stopped.json() == {"interrupted": True}
            state = (await on_b.get(f"/v1/live/sessions/{session_id}", headers=pair_user.headers)).json()
            assert state["connection"] == "connected" and state["turns"][0]["interrupted"] is True
            assert b.live.local(uuid.UUID(session_id)) is None

            gone = await on_b.delete(f"/v1/live/sessions/{session_id}", headers=pair_user.headers)
            assert gone.status_code == 204
            await peer.wait_for(lambda m: m == {"type": "closed", "reason": "deleted"})
        assert a.live.local(uuid.UUID(session_id)) is None


async def test_a_full_instance_opens_the_session_on_one_with_room(
    pair: tuple[Gateway, Gateway], pair_user: Account
) -> None:
    a, b = pair
    async with httpx.AsyncClient(base_url=b.url, timeout=60) as on_b:
        created = await on_b.post("/v1/live/sessions", json={}, headers=pair_user.headers)  # gw-b has no room
        assert created.status_code == 201, created.text
        session_id = created.json()["id"]
        assert a.live.local(uuid.UUID(session_id)) is not None
        assert created.headers["X-Credits-Charged"] == "10"  # the owner's answer, headers and all
        assert "X-Credits-Remaining" in created.headers
        assert (await on_b.delete(f"/v1/live/sessions/{session_id}", headers=pair_user.headers)).status_code == 204


async def test_a_session_without_messages_ends_after_the_idle_timeout(
    pair: tuple[Gateway, Gateway], pair_user: Account
) -> None:
    a, _ = pair
    async with httpx.AsyncClient(base_url=a.url, timeout=60) as on_a, LivePeer() as peer:
        session_id = await open_session(on_a, pair_user)
        await peer.connect(on_a, session_id, pair_user.headers)
        closed = await peer.wait_for(lambda m: m["type"] == "closed", timeout_s=IDLE_TIMEOUT_S + 5)
        assert closed["reason"] == "idle"
        await closed_state(on_a, session_id, pair_user.headers)


async def test_a_session_ends_gracefully_when_the_credits_run_out(
    pair: tuple[Gateway, Gateway], pair_user: Account, database_url: str
) -> None:
    a, _ = pair
    await set_account(database_url, pair_user, credits=10)  # one billing period
    async with httpx.AsyncClient(base_url=a.url, timeout=60) as on_a, LivePeer() as peer:
        session_id = await open_session(on_a, pair_user)
        await peer.connect(on_a, session_id, pair_user.headers)
        error = await peer.wait_for(lambda m: m["type"] == "error", timeout_s=BILLING_PERIOD_S + 5)
        assert error["code"] == "payment_required"
        closed = await peer.wait_for(lambda m: m["type"] == "closed")
        assert closed["reason"] == "credits"
        state = await closed_state(on_a, session_id, pair_user.headers)
        assert state["credits_charged"] == 10
        me = await on_a.post("/v1/live/sessions", json={}, headers=pair_user.headers)
        assert me.status_code == 402
