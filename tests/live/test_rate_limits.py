"""Live sessions cost a language-model call per message: messages (over HTTP and the data channel, one
budget per user) and sessions opened are rate-limited, so a burst cannot make unlimited paid calls."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from tests.fakes.openai_server import FakeOpenAIServer
from tests.live.conftest import REPLY_SHORT, Gateway, open_session
from tests.live.peer_client import LivePeer
from tests.platform.users import TestUser as Account

MESSAGES = 3
SESSIONS = 2


@pytest.fixture
def strict(main_gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> Iterator[Gateway]:
    """The shared gateway with small live limits for this test (its settings are read per request)."""
    settings = main_gateway.app.state.neura.settings
    monkeypatch.setattr(settings, "live_messages_per_minute", MESSAGES)
    monkeypatch.setattr(settings, "live_sessions_per_minute", SESSIONS)
    yield main_gateway


async def test_a_burst_of_messages_is_cut_off_before_the_language_model(
    strict: Gateway, http: httpx.AsyncClient, user: Account, openai_server: FakeOpenAIServer
) -> None:
    openai_server.behaviour.replies = [REPLY_SHORT] * 10
    session_id = await open_session(http, user)
    calls_before = len(openai_server.chat_requests)
    url = f"/v1/live/sessions/{session_id}/messages"
    answers = await asyncio.gather(*(http.post(url, json={"text": f"Hi {i}"}, headers=user.headers) for i in range(10)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [202] * MESSAGES + [429] * (10 - MESSAGES), [a.text for a in answers]
    refused = next(a for a in answers if a.status_code == 429)
    assert refused.json()["error"]["code"] == "rate_limited"
    assert "live messages" in refused.json()["error"]["message"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    await asyncio.sleep(1.0)  # let the accepted turns reach the model
    assert len(openai_server.chat_requests) - calls_before <= MESSAGES  # never more paid calls than allowed
    await http.delete(f"/v1/live/sessions/{session_id}", headers=user.headers)


async def test_the_data_channel_shares_the_budget(
    strict: Gateway, http: httpx.AsyncClient, user: Account, openai_server: FakeOpenAIServer
) -> None:
    openai_server.behaviour.replies = [REPLY_SHORT] * 10
    session_id = await open_session(http, user)
    async with LivePeer() as peer:
        await peer.connect(http, session_id, user.headers)
        accepted = await http.post(
            f"/v1/live/sessions/{session_id}/messages", json={"text": "Hello"}, headers=user.headers
        )
        assert accepted.status_code == 202
        for i in range(MESSAGES):  # a normal pace within the limit is answered ...
            peer.say(f"Question {i}?")
        refusal = await peer.wait_for(lambda m: m["type"] == "error" and "live messages" in m["message"])
        assert "rate" in refusal["code"].lower()
        turns = [m for _, m in peer.messages if m["type"] == "transcript" and m["role"] == "user"]
        assert len(turns) == MESSAGES  # ... the one past the limit starts no turn
    await http.delete(f"/v1/live/sessions/{session_id}", headers=user.headers)


async def test_opening_sessions_is_limited(strict: Gateway, http: httpx.AsyncClient, user: Account) -> None:
    for _ in range(SESSIONS):
        session_id = await open_session(http, user)
        assert (await http.delete(f"/v1/live/sessions/{session_id}", headers=user.headers)).status_code == 204
    refused = await http.post("/v1/live/sessions", json={}, headers=user.headers)
    assert refused.status_code == 429, refused.text
    assert "live sessions opened" in refused.json()["error"]["message"]
    assert refused.headers["Retry-After"]
