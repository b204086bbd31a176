"""An API-only gateway in front of a media gateway: speech and live sessions
are forwarded to the media process found in the registries; draining the media process tells its
live sessions (data channel ``draining``), lets the turn finish, closes them, and sends nothing new there."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from websockets.asyncio.client import connect

from neura.gateway.app import create_app
from neura.gateway.drain import drain_gateway
from tests.fakes.openai_server import FakeOpenAIServer
from tests.live.conftest import REPLY_SHORT, Gateway, live_settings, open_session, run_gateway, set_account
from tests.live.peer_client import LivePeer
from tests.platform.users import TestUser as Account
from tests.platform.users import signup
from tests.servers import free_port, serve_in_thread

DRAIN_TIMEOUT_S = 20.0
OWN_REDIS_DB = "/12"  # test_routing uses 10, test_workers 13


@pytest.fixture(scope="module")
def tiers(
    database_url: str, redis_url: str, openai_server_session: FakeOpenAIServer, live_root: Path
) -> Iterator[tuple[Gateway, str]]:
    """(the media gateway "media-a", the API gateway's URL), on a Redis database of their own: on the
    session's, the API gateway could route a new session to another module's gateway, which no drain
    here would reach."""
    redis_url = redis_url.rsplit("/", 1)[0] + OWN_REDIS_DB
    redis.Redis.from_url(redis_url).flushdb()
    media_port, api_port = free_port(), free_port()
    common = {"LIVE_HEARTBEAT_S": 0.5, "DRAIN_TIMEOUT_S": DRAIN_TIMEOUT_S, "DRAIN_UNREADY_S": 0.5}
    media = live_settings(
        database_url,
        redis_url,
        openai_server_session.base_url,
        live_root / "media-a",
        port=media_port,
        LIVE_INSTANCE_ID="media-a",
        LIVE_INTERNAL_URL=f"http://127.0.0.1:{media_port}",
        NEURA_ROLE="media",
        **common,
    )
    api = live_settings(
        database_url, redis_url, openai_server_session.base_url, live_root / "api", port=api_port, NEURA_ROLE="api"
    )
    try:
        with run_gateway(media, media_port) as media_gateway, serve_in_thread(create_app(api), port=api_port) as url:
            yield media_gateway, url
    finally:
        redis.Redis.from_url(redis_url).flushdb()


@pytest.fixture
async def member(tiers: tuple[Gateway, str], database_url: str) -> Account:
    with httpx.Client(base_url=tiers[1], timeout=30) as client:
        user = signup(client)
    await set_account(database_url, user, plan="pro")
    return user


async def test_the_api_forwards_speech_to_a_media_process(tiers: tuple[Gateway, str], member: Account) -> None:
    media, api = tiers
    async with httpx.AsyncClient(base_url=api, timeout=60) as http:
        cluster = (await http.get("/v1/capabilities", headers=member.headers)).json()
        (advertised,) = [m for m in cluster["members"] if m["id"] == "media-a"]
        assert advertised["role"] == "media" and "piper:en_US-joe-medium" in advertised["tts_voices"]
        assert advertised["capacity"] == 4 and cluster["live_sessions_free"] >= 4

        voices = await http.get("/v1/voices")
        assert voices.status_code == 200
        assert voices.json() == (await httpx.AsyncClient(base_url=media.url).get("/v1/voices")).json()
        spoken = await http.post("/v1/tts", json={"text": "Hello.", "voice": "espeak"}, headers=member.headers)
        assert spoken.status_code == 200, spoken.text
        assert spoken.headers["X-Credits-Charged"] == "1" and spoken.json()["audio"]["duration_s"] > 0.2

    url = api.replace("http://", "ws://") + f"/v1/tts/stream?access_token={member.access_token}&voice=espeak"
    async with connect(url, open_timeout=10) as socket:
        assert json.loads(await socket.recv())["type"] == "ready"
        await socket.send(json.dumps({"type": "text", "text": "Forwarded both ways."}))
        await socket.send(json.dumps({"type": "end"}))
        chunk = json.loads(await socket.recv())
        assert chunk["type"] == "chunk" and isinstance(await socket.recv(), bytes)


# Timing-sensitive: up to two reruns, each reported.
# three processes start and drain against a deadline on 2 cores.
@pytest.mark.flaky(reruns=2)
async def test_a_draining_media_process_tells_its_sessions_finishes_the_turn_and_takes_no_new_one(
    tiers: tuple[Gateway, str], member: Account, openai_server: FakeOpenAIServer
) -> None:
    media, api = tiers
    openai_server.behaviour.replies = [REPLY_SHORT]  # a few seconds of speech: within the deadline
    async with httpx.AsyncClient(base_url=api, timeout=60) as http, LivePeer() as peer:
        session_id = await open_session(http, member)  # through the API process, run by media-a
        await peer.connect(http, session_id, member.headers)
        peer.say("Tell me about the sea.")
        await peer.wait_for(lambda m: m["type"] == "state" and m["state"] == "speaking", timeout_s=30)

        drained = asyncio.run_coroutine_threadsafe(drain_gateway(media.app.state.neura), media.live.loop)
        await asyncio.wait_for(asyncio.wrap_future(drained), DRAIN_TIMEOUT_S + 10)  # the peer keeps running
        await peer.wait_for(lambda m: m["type"] == "closed", timeout_s=10)

        kinds = [m["type"] for _, m in peer.messages]
        assert "draining" in kinds and kinds.index("draining") < kinds.index("closed"), kinds
        assert peer.messages_of("draining")[0]["deadline_s"] == DRAIN_TIMEOUT_S
        assert peer.messages_of("closed")[-1]["reason"] == "shutdown"
        finals = [m for m in peer.messages_of("transcript") if m["role"] == "avatar" and m["final"]]
        assert finals, "the turn in progress was let finish before the session closed"

        assert (await httpx.AsyncClient(base_url=media.url).get("/readyz")).status_code == 503
        members = (await http.get("/v1/capabilities", headers=member.headers)).json()["members"]
        assert [m["draining"] for m in members if m["id"] == "media-a"] == [True]
        others = [m for m in members if m["role"] == "media" and not m["draining"]]
        another = await http.post("/v1/live/sessions", json={}, headers=member.headers)
        if others:  # another media gateway of this test session takes it
            assert another.status_code == 201, another.text
            assert media.live.local(uuid.UUID(another.json()["id"])) is None
            await http.delete(f"/v1/live/sessions/{another.json()['id']}", headers=member.headers)
        else:
            assert another.status_code == 503 and another.json()["error"]["code"] == "no_capacity", another.text
            assert int(another.headers["Retry-After"]) > 0
