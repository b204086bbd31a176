"""The live-session API: creation under the plan's limits, ownership, signalling errors, teardown and
leaks (asyncio tasks and peer connections back to their baseline after sessions come and go)."""

from __future__ import annotations

import asyncio
import gc
import io
import time
import uuid
import weakref
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from aiortc import RTCPeerConnection
from PIL import Image

from neura.db.models import LiveSession
from tests.fakes.openai_server import FakeOpenAIServer
from tests.live.conftest import (
    REPLY_SHORT,
    Gateway,
    closed_state,
    db_value,
    open_session,
    own_gateway,
    set_account,
)
from tests.live.peer_client import LivePeer
from tests.platform.photos import portrait
from tests.platform.users import TestUser as Account
from tests.platform.users import signup


async def test_a_session_is_created_without_any_ice_server_and_reported(http: httpx.AsyncClient, user: Account) -> None:
    response = await http.post("/v1/live/sessions", json={"persona": "You are a pirate."}, headers=user.headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["ice_servers"] == []  # never a public STUN server unless configured
    assert body["data_channel"] == "neura"
    # a paid answer: its first minute (10 credits) of the 300 a new account has
    assert (response.headers["X-Credits-Charged"], response.headers["X-Credits-Remaining"]) == ("10", "290")
    state = (await http.get(f"/v1/live/sessions/{body['id']}", headers=user.headers)).json()
    assert (state["status"], state["state"], state["connection"], state["turns"]) == ("open", "listening", "new", [])

    assert (await http.delete(f"/v1/live/sessions/{body['id']}", headers=user.headers)).status_code == 204
    closed = (await http.get(f"/v1/live/sessions/{body['id']}", headers=user.headers)).json()
    assert closed["status"] == "closed" and closed["credits_charged"] == 10


async def test_sessions_are_private_to_their_owner(http: httpx.AsyncClient, user: Account, live_gateway: str) -> None:
    session_id = await open_session(http, user)
    with httpx.Client(base_url=live_gateway) as client:
        other = signup(client)
    base = f"/v1/live/sessions/{session_id}"
    for method, path, body in [
        ("GET", base, None),
        ("POST", f"{base}/offer", {"sdp": "v=0", "type": "offer"}),
        ("POST", f"{base}/messages", {"text": "hi"}),
        ("POST", f"{base}/interrupt", None),
        ("DELETE", base, None),
    ]:
        response = await http.request(method, path, json=body, headers=other.headers)
        assert response.status_code == 404, (method, path, response.text)
    assert (await http.get(base, headers=user.headers)).json()["status"] == "open"
    assert (await http.get(f"/v1/live/sessions/{uuid.uuid4()}", headers=user.headers)).status_code == 404
    assert (await http.post("/v1/live/sessions", json={})).status_code == 401
    await http.delete(base, headers=user.headers)


async def test_bad_signalling_is_refused_with_clear_errors(http: httpx.AsyncClient, user: Account) -> None:
    session_id = await open_session(http, user)
    base = f"/v1/live/sessions/{session_id}"
    bad = await http.post(f"{base}/offer", json={"sdp": "this is not sdp", "type": "offer"}, headers=user.headers)
    assert bad.status_code == 422, bad.text
    empty = await http.post(f"{base}/messages", json={"text": ""}, headers=user.headers)
    assert empty.status_code == 422
    voice = await http.post("/v1/live/sessions", json={"voice": "shatner"}, headers=user.headers)
    assert voice.status_code == 422 and "voice" in voice.json()["error"]["message"]
    avatar = await http.post("/v1/live/sessions", json={"avatar_id": str(uuid.uuid4())}, headers=user.headers)
    assert avatar.status_code == 404
    async with LivePeer() as peer:  # a good offer after the bad one still works
        await peer.connect(http, session_id, user.headers)
    await http.delete(base, headers=user.headers)


async def test_a_second_offer_for_a_session_is_a_conflict(
    connected: tuple[LivePeer, str], http: httpx.AsyncClient, user: Account
) -> None:
    _, session_id = connected
    offer = {"sdp": "v=0", "type": "offer"}
    response = await http.post(f"/v1/live/sessions/{session_id}/offer", json=offer, headers=user.headers)
    assert response.status_code == 409


async def test_plan_limits_concurrency_minutes_and_credits(
    http: httpx.AsyncClient, user: Account, database_url: str
) -> None:
    first = await open_session(http, user)  # the free plan allows one session at a time
    second = await http.post("/v1/live/sessions", json={}, headers=user.headers)
    assert second.status_code == 429, second.text
    assert "allows 1 at a time" in second.json()["error"]["message"]
    assert second.headers["retry-after"]
    await http.delete(f"/v1/live/sessions/{first}", headers=user.headers)

    await set_account(database_url, user, credits=0)
    broke = await http.post("/v1/live/sessions", json={}, headers=user.headers)
    assert broke.status_code == 402, broke.text

    await set_account(database_url, user, credits=1000)
    used = await db_value(
        database_url,
        "INSERT INTO live_sessions (id, user_id, voice, status, seconds_used, credits_charged) "
        "VALUES ($1::uuid, $2::uuid, 'piper', 'closed', 300, 50) RETURNING id",
        str(uuid.uuid4()),
        user.user_id,
    )
    assert used
    spent = await http.post("/v1/live/sessions", json={}, headers=user.headers)
    assert spent.status_code == 403, spent.text
    assert "live minutes" in spent.json()["error"]["message"]


async def test_the_server_ends_a_session_whose_client_goes_away(
    http: httpx.AsyncClient, user: Account, main_gateway: Gateway
) -> None:
    session_id = await open_session(http, user)
    peer = LivePeer()
    await peer.connect(http, session_id, user.headers)
    await peer.close()
    await closed_state(http, session_id, user.headers)
    assert main_gateway.live.local(uuid.UUID(session_id)) is None


PEERS: weakref.WeakSet[RTCPeerConnection] = weakref.WeakSet()
_original_init = RTCPeerConnection.__init__


def _tracked_init(self: RTCPeerConnection, *args: Any, **kwargs: Any) -> None:
    _original_init(self, *args, **kwargs)
    PEERS.add(self)


async def _task_count() -> int:
    return len(asyncio.all_tasks())


def counts(gateway: Gateway) -> tuple[int, int]:
    """(asyncio tasks on the gateway's loop, RTCPeerConnection objects alive in the process)."""
    gc.collect()
    return gateway.run(_task_count()), len(PEERS)


async def test_sessions_leave_no_tasks_or_peer_connections_behind(
    http: httpx.AsyncClient,
    user: Account,
    main_gateway: Gateway,
    openai_server: FakeOpenAIServer,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await set_account(database_url, user, plan="pro")  # five at a time
    openai_server.behaviour.replies = [REPLY_SHORT]
    monkeypatch.setattr(RTCPeerConnection, "__init__", _tracked_init)
    baseline = counts(main_gateway)
    for _ in range(2):
        peers: list[tuple[LivePeer, str]] = []
        for _ in range(3):
            session_id = await open_session(http, user)
            peer = LivePeer()
            await peer.connect(http, session_id, user.headers)
            peer.say("Hello there!")
            peers.append((peer, session_id))
        await asyncio.gather(
            *(p.wait_for(lambda m: m["type"] == "state" and m["state"] == "speaking") for p, _ in peers)
        )
        for index, (peer, session_id) in enumerate(peers):
            if index == 0:
                await peer.close()  # the client goes away first
            response = await http.delete(f"/v1/live/sessions/{session_id}", headers=user.headers)
            assert response.status_code in (204, 404)
            await peer.close()
    del peers, peer
    deadline = time.monotonic() + 5.0  # a closed session's memory is released a moment after it closed

    def leaked(now: tuple[int, int]) -> bool:  # a background task of the gateway may end meanwhile: fewer is fine
        return now[0] > baseline[0] or now[1] != baseline[1]

    while leaked(after := counts(main_gateway)) and time.monotonic() < deadline:
        await asyncio.sleep(0.25)
    assert not leaked(after), f"gateway (tasks, open peer connections): {baseline} before, {after} after"
    assert main_gateway.live.open_sessions == 0
    open_rows = await db_value(
        database_url,
        f"SELECT count(*) FROM {LiveSession.__tablename__} WHERE user_id = $1::uuid AND status = 'open'",
        user.user_id,
    )
    assert open_rows == 0


async def test_gateway_shutdown_ends_its_sessions_cleanly(
    database_url: str, redis_url: str, openai_server: FakeOpenAIServer, live_root: Path, user: Account
) -> None:
    with own_gateway(database_url, redis_url, openai_server.base_url, live_root, "gw-short") as gateway:
        async with httpx.AsyncClient(base_url=gateway.url, timeout=60) as short_lived:
            session_id = await open_session(short_lived, user)
            peer = LivePeer()
            await peer.connect(short_lived, session_id, user.headers)
    # leaving the block ran the gateway's lifespan shutdown
    closed = await peer.wait_for(lambda m: m["type"] == "closed")
    assert closed["reason"] == "shutdown"
    await peer.close()
    status = await db_value(database_url, "SELECT status FROM live_sessions WHERE id = $1::uuid", session_id)
    assert status == "closed"


async def _first_frame(http: httpx.AsyncClient, user: Account, **body: Any) -> np.ndarray:
    session_id = await open_session(http, user, **body)
    async with LivePeer() as peer:
        peer.record_video = True
        await peer.connect(http, session_id, user.headers)
        await peer.wait_until(lambda: len(peer.video) > 5, 10.0)
        image = peer.video[5].image
    await http.delete(f"/v1/live/sessions/{session_id}", headers=user.headers)
    assert image is not None
    return image.astype(np.float32)


async def test_a_session_shows_the_users_own_avatar(http: httpx.AsyncClient, user: Account) -> None:
    mirrored = Image.open(io.BytesIO(portrait())).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    upload = io.BytesIO()
    mirrored.save(upload, format="JPEG", quality=90)
    created = await http.post(
        "/v1/avatars", files={"file": ("mirror.jpg", upload.getvalue(), "image/jpeg")}, headers=user.headers
    )
    assert created.status_code == 201, created.text

    own = await _first_frame(http, user, avatar_id=created.json()["id"])
    default = await _first_frame(http, user)
    assert np.abs(own - default[:, ::-1]).mean() < 0.5 * np.abs(own - default).mean()
