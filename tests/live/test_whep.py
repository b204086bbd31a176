"""WHEP, trickle ICE and prompt teardown, against the real gateway with real aiortc peers.

A player POSTs its offer without candidates and PATCHes them afterwards (RFC 8840 fragments), or sends
none at all (the gateway learns its address from its connectivity checks); a page using the JSON API
trickles RTCIceCandidateInit objects. A peer that vanishes (killed: no goodbye) ends its session within
a few seconds, and its billing with it; a closed page ends it at once; a session that never connects
ends after LIVE_CONNECT_TIMEOUT_S.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from neura.live.peer import use_host_addresses
from tests.fakes.openai_server import FakeOpenAIServer
from tests.live.conftest import (
    Gateway,
    closed_state,
    db_value,
    live_settings,
    open_session,
    run_gateway,
)
from tests.live.peer_client import LivePeer, split_candidates
from tests.platform.users import TestUser as Account
from tests.platform.users import signup
from tests.servers import free_port

PEER_TIMEOUT_S = 3.0
CONNECT_TIMEOUT_S = 3.0
BILLING_PERIOD_S = 2.0
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def whep_gateway(
    database_url: str, redis_url: str, openai_server_session: FakeOpenAIServer, live_root: Path
) -> Iterator[Gateway]:
    use_host_addresses(["127.0.0.1"])
    port = free_port()
    settings = live_settings(
        database_url,
        redis_url,
        openai_server_session.base_url,
        live_root,
        port=port,
        LIVE_INSTANCE_ID="gw-whep",
        LIVE_PEER_TIMEOUT_S=PEER_TIMEOUT_S,
        LIVE_CONNECT_TIMEOUT_S=CONNECT_TIMEOUT_S,
        LIVE_BILLING_PERIOD_S=BILLING_PERIOD_S,
    )
    with run_gateway(settings, port) as gateway:
        yield gateway


@pytest.fixture
async def web(whep_gateway: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=whep_gateway.url, timeout=60.0) as client:
        yield client


@pytest.fixture
def viewer(whep_gateway: Gateway) -> Account:
    with httpx.Client(base_url=whep_gateway.url, timeout=30.0) as client:
        return signup(client)


def remote_candidates(gateway: Gateway, session_id: str) -> list[tuple[str, int, str]]:
    """The client candidates the gateway's ICE agent knows: (address, port, type)."""

    async def read() -> list[tuple[str, int, str]]:
        session = gateway.live.local(uuid.UUID(session_id))
        assert session is not None and session.pc is not None
        transport = session.pc.getTransceivers()[0].receiver.transport.transport
        return [(c.ip, c.port, c.type) for c in transport.getRemoteCandidates()]

    return gateway.run(read())


async def wait_for_candidates(gateway: Gateway, session_id: str, types: set[str]) -> list[tuple[str, int, str]]:
    for _ in range(100):
        found = remote_candidates(gateway, session_id)
        if types <= {kind for _, _, kind in found}:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"the gateway never learned {types} candidates: {found}")


async def test_a_whep_player_trickles_its_candidates_and_gets_the_avatar(
    whep_gateway: Gateway, web: httpx.AsyncClient, viewer: Account
) -> None:
    async with LivePeer() as peer:
        session = await peer.connect_whep(web, viewer.headers)
        print(f"\nWHEP: answer in {session.answer_ms:.1f} ms, first frame {session.first_frame_ms:.0f} ms after POST")
        assert session.location.startswith("/v1/live/sessions/") and session.etag.startswith('"')
        assert "a=candidate:" in session.answer and "a=end-of-candidates" in session.answer
        host = [line.split()[4:6] for line in peer.pc.localDescription.sdp.splitlines() if "typ host" in line]
        found = await wait_for_candidates(whep_gateway, session.session_id, {"host"})
        assert (host[0][0], int(host[0][1]), "host") in found  # the PATCHed candidate reached ICE
        await peer.wait_for(lambda m: m["type"] == "state")  # the data channel works too
        ended = await web.delete(session.location, headers=viewer.headers)
        assert ended.status_code == 204
        assert (await web.delete(session.location, headers=viewer.headers)).status_code == 204  # idempotent
        assert (await closed_state(web, session.session_id, viewer.headers))["status"] == "closed"


async def test_a_player_that_trickles_nothing_still_connects(
    whep_gateway: Gateway, web: httpx.AsyncClient, viewer: Account
) -> None:
    """Its checks reveal its address to the gateway (a peer-reflexive candidate)."""
    async with LivePeer() as peer:
        session = await peer.connect_whep(web, viewer.headers, trickle=False)
        assert {kind for _, _, kind in remote_candidates(whep_gateway, session.session_id)} == {"prflx"}
        await web.delete(session.location, headers=viewer.headers)


async def test_a_default_chrome_with_only_mdns_candidates_connects(
    whep_gateway: Gateway, web: httpx.AsyncClient, viewer: Account
) -> None:
    """Chrome hides its addresses behind ``<uuid>.local`` names: accepted (204), not resolved (no multicast
    from the server), and the connection comes up through the page's own checks."""
    async with LivePeer() as peer:
        session = await peer.connect_whep(web, viewer.headers, trickle=False)
        name = f"{uuid.uuid4()}.local"
        fragment = "\r\n".join(
            [
                *[line for line in peer.pc.localDescription.sdp.splitlines() if line.startswith("a=ice-")],
                "m=audio 9 UDP/TLS/RTP/SAVPF 111",
                "a=mid:0",
                f"a=candidate:3 1 udp 2122260223 {name} 54400 typ host generation 0 network-cost 999",
                "a=end-of-candidates",
            ]
        )
        patched = await web.patch(
            session.location,
            content=fragment + "\r\n",
            headers={**viewer.headers, "Content-Type": "application/trickle-ice-sdpfrag", "If-Match": session.etag},
        )
        assert patched.status_code == 204, patched.text
        await asyncio.sleep(0.2)
        assert all(ip != name for ip, _, _ in remote_candidates(whep_gateway, session.session_id))
        frames = len(peer.video)
        await peer.wait_until(lambda: len(peer.video) > frames + 10, 5.0)  # still streaming
        await web.delete(session.location, headers=viewer.headers)


async def test_the_json_api_takes_trickled_candidates_too(
    whep_gateway: Gateway, web: httpx.AsyncClient, viewer: Account
) -> None:
    session_id = await open_session(web, viewer)
    early = await web.post(f"/v1/live/sessions/{session_id}/candidates", json={"done": True}, headers=viewer.headers)
    assert early.status_code == 409  # no offer yet
    async with LivePeer() as peer:
        await peer.pc.setLocalDescription(await peer.pc.createOffer())
        offer, lines = split_candidates(peer.pc.localDescription.sdp)
        answer = await web.post(
            f"/v1/live/sessions/{session_id}/offer", json={"sdp": offer, "type": "offer"}, headers=viewer.headers
        )
        assert answer.status_code == 200, answer.text
        from aiortc import RTCSessionDescription

        await peer.pc.setRemoteDescription(RTCSessionDescription(**answer.json()))
        inits = [{"candidate": line[2:], "sdpMid": "0", "sdpMLineIndex": 0} for line in lines]
        inits.append({"candidate": "", "sdpMid": "0"})  # a browser's end-of-candidates
        added = await web.post(
            f"/v1/live/sessions/{session_id}/candidates", json={"candidates": inits}, headers=viewer.headers
        )
        assert added.status_code == 204, added.text
        await wait_for_candidates(whep_gateway, session_id, {"host"})
        await peer.wait_until(lambda: len(peer.video) > 0, 15.0)
        bad = await web.post(
            f"/v1/live/sessions/{session_id}/candidates", json={"candidates": [{"candidate": "nonsense"}]},
            headers=viewer.headers,
        )  # fmt: skip
        assert bad.status_code == 422
    await web.delete(f"/v1/live/sessions/{session_id}", headers=viewer.headers)


async def test_whep_refuses_what_it_cannot_use(whep_gateway: Gateway, web: httpx.AsyncClient, viewer: Account) -> None:
    sdp = {"Content-Type": "application/sdp"}
    assert (await web.post("/v1/live/whep", content="v=0", headers=sdp)).status_code == 401
    typed = await web.post("/v1/live/whep", json={"sdp": "v=0"}, headers=viewer.headers)
    assert typed.status_code == 415 and typed.json()["error"]["code"] == "unsupported_media_type"
    before = whep_gateway.live.open_sessions
    garbage = await web.post("/v1/live/whep", content="v=0\r\nnot an offer\r\n", headers={**viewer.headers, **sdp})
    assert garbage.status_code == 422, garbage.text
    assert whep_gateway.live.open_sessions == before  # the refused offer's session is gone, not billed on
    options = await web.options("/v1/live/whep")
    assert options.status_code == 204 and options.headers["accept-post"] == "application/sdp"


async def test_whep_patch_checks_type_etag_and_owner(
    whep_gateway: Gateway, web: httpx.AsyncClient, viewer: Account
) -> None:
    frag = "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789012345678901\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n"
    trickle = {"Content-Type": "application/trickle-ice-sdpfrag"}
    async with LivePeer() as peer:
        session = await peer.connect_whep(web, viewer.headers)
        url, etag = session.location, session.etag

        async def patch(body: str, **headers: str) -> httpx.Response:
            return await web.patch(url, content=body, headers={**viewer.headers, **trickle, **headers})

        assert (
            await web.patch(url, content=frag, headers={**viewer.headers, "Content-Type": "text/plain"})
        ).status_code == 415
        assert (await patch(frag, **{"If-Match": '"someone-else"'})).status_code == 412
        assert (await patch(frag, **{"If-Match": "*"})).json()["error"]["code"] == "ice_restart"
        assert (await patch("hello there")).status_code == 422
        assert (await patch("a=candidate:1 1 udp\r\n")).status_code == 422
        restart = await patch(frag, **{"If-Match": etag})  # new credentials: an ICE restart
        assert restart.status_code == 422 and restart.json()["error"]["code"] == "ice_restart"
        with httpx.Client(base_url=whep_gateway.url) as sync:
            intruder = signup(sync)
        assert (await web.patch(url, content=frag, headers={**intruder.headers, **trickle})).status_code == 404
        assert (await web.delete(url, headers=intruder.headers)).status_code == 404
        options = await web.options(url)
        assert options.headers["accept-patch"] == "application/trickle-ice-sdpfrag"
        await web.delete(url, headers=viewer.headers)
        assert (await patch(frag, **{"If-Match": etag})).status_code == 404  # ended


async def test_a_closed_page_ends_its_session_at_once(web: httpx.AsyncClient, viewer: Account) -> None:
    peer = LivePeer()
    session = await peer.connect_whep(web, viewer.headers)
    await peer.close()  # the page's peer connection closes (its data channel with it)
    closed_at = time.monotonic()
    state = await closed_state(web, session.session_id, viewer.headers)
    print(f"\nclosed page -> session closed in {(time.monotonic() - closed_at) * 1000:.0f} ms")
    assert time.monotonic() - closed_at < 3.0, state


async def test_a_killed_peer_ends_its_session_and_its_billing(
    whep_gateway: Gateway, web: httpx.AsyncClient, viewer: Account, database_url: str
) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "tests.live.peer_process", whep_gateway.url, viewer.access_token]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), 30)  # type: ignore[union-attr]
        assert line.startswith("connected "), line
        session_id = line.split()[1]
        await asyncio.sleep(BILLING_PERIOD_S * 1.5)  # it is billed while it is there
        process.send_signal(signal.SIGKILL)  # no DTLS alert, no SCTP abort, no DELETE: just gone
        killed_at = time.monotonic()
        state: dict[str, Any] = {}
        while time.monotonic() - killed_at < PEER_TIMEOUT_S + 10:
            state = (await web.get(f"/v1/live/sessions/{session_id}", headers=viewer.headers)).json()
            if state["status"] == "closed":
                break
            await asyncio.sleep(0.1)
        ended_s = time.monotonic() - killed_at
        print(f"\nkilled peer -> session closed in {ended_s:.1f} s (LIVE_PEER_TIMEOUT_S={PEER_TIMEOUT_S:g})")
        assert state["status"] == "closed" and ended_s < PEER_TIMEOUT_S + 3, (ended_s, state)
        charges = "SELECT count(*) FROM credit_ledger WHERE user_id = $1::uuid AND reason = 'live'"
        charged = await db_value(database_url, charges, viewer.user_id)
        await asyncio.sleep(BILLING_PERIOD_S * 1.5)
        assert await db_value(database_url, charges, viewer.user_id) == charged  # billing stopped with it
        assert state["seconds_used"] < BILLING_PERIOD_S * 1.5 + ended_s + 3
    finally:
        process.kill()
        process.wait()


async def test_a_session_that_never_connects_ends(web: httpx.AsyncClient, viewer: Account) -> None:
    session_id = await open_session(web, viewer)
    started = time.monotonic()
    state = await closed_state_within(web, session_id, viewer.headers, CONNECT_TIMEOUT_S + 5)
    assert state["status"] == "closed" and time.monotonic() - started >= CONNECT_TIMEOUT_S - 0.5


async def closed_state_within(
    http: httpx.AsyncClient, session_id: str, headers: dict[str, str], timeout_s: float
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        state: dict[str, Any] = (await http.get(f"/v1/live/sessions/{session_id}", headers=headers)).json()
        if state["status"] == "closed" or time.monotonic() > deadline:
            return state
        await asyncio.sleep(0.2)
