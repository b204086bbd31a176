"""Conversation over a live session: persona, date and time, history, barge-in, and a language model
that fails (the avatar says so and the session goes on)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from neura.live.llm_stage import FALLBACK_SENTENCE
from tests.fakes.openai_server import FakeOpenAIServer
from tests.live.conftest import REPLY_LONG, REPLY_SHORT, open_session
from tests.live.peer_client import LivePeer
from tests.platform.users import TestUser as Account


def state_is(state: str, turn_id: int):  # type: ignore[no-untyped-def]
    return lambda m: m["type"] == "state" and m["state"] == state and m["turn_id"] == turn_id


async def test_the_avatar_knows_its_persona_the_date_and_what_was_said(
    http: httpx.AsyncClient, user: Account, openai_server: FakeOpenAIServer
) -> None:
    openai_server.behaviour.replies = ["It is a fine day.", REPLY_SHORT]
    openai_server.behaviour.ttft_ms = 10
    session_id = await open_session(http, user, persona="You are Captain Nemo, a submarine captain.")
    async with LivePeer() as peer:
        await peer.connect(http, session_id, user.headers)
        peer.say("What day is it?")
        await peer.wait_for(state_is("listening", 1))
        peer.say("Tell me about the ocean.")
        await peer.wait_for(state_is("listening", 2))

    first, second = openai_server.chat_requests[-2:]
    system = first["messages"][0]
    assert system["role"] == "system" and "Captain Nemo" in system["content"]
    today = datetime.now(UTC)
    assert f"{today:%A}, {today.day} {today:%B %Y}" in system["content"]
    assert [m["role"] for m in second["messages"]] == ["system", "user", "assistant", "user"]
    assert second["messages"][1:] == [
        {"role": "user", "content": "What day is it?"},
        {"role": "assistant", "content": "It is a fine day."},
        {"role": "user", "content": "Tell me about the ocean."},
    ]
    await http.delete(f"/v1/live/sessions/{session_id}", headers=user.headers)


async def test_a_failing_language_model_is_answered_in_the_session(
    connected: tuple[LivePeer, str], openai_server: FakeOpenAIServer
) -> None:
    peer, _ = connected
    openai_server.behaviour.fail_with = [401]  # refused credentials: not retried
    peer.say("Hello?")
    error = await peer.wait_for(lambda m: m["type"] == "error")
    assert error["code"].startswith("llm_") and error["turn_id"] == 1
    spoken = await peer.wait_for(lambda m: m["type"] == "transcript" and m["role"] == "avatar" and m["final"])
    assert spoken["text"] == FALLBACK_SENTENCE
    assert peer.speech_onset(0.0) is not None  # it was said out loud

    openai_server.behaviour.replies = [REPLY_SHORT]
    peer.say("Hello again.")
    again = await peer.wait_for(
        lambda m: m["type"] == "transcript" and m["role"] == "avatar" and m["final"] and m["turn_id"] == 2
    )
    assert again["text"] == REPLY_SHORT


async def test_a_new_message_interrupts_the_answer_in_progress(
    connected: tuple[LivePeer, str], openai_server: FakeOpenAIServer, http: httpx.AsyncClient, user: Account
) -> None:
    peer, session_id = connected
    openai_server.behaviour.replies = [REPLY_LONG, REPLY_SHORT]
    first = await http.post(
        f"/v1/live/sessions/{session_id}/messages", json={"text": "Tell me a story."}, headers=user.headers
    )
    assert first.status_code == 202 and first.json() == {"turn_id": 1}
    await peer.wait_for(state_is("speaking", 1))
    second = await http.post(
        f"/v1/live/sessions/{session_id}/messages", json={"text": "Stop, tell me a fact."}, headers=user.headers
    )
    assert second.json() == {"turn_id": 2}
    await peer.wait_for(state_is("listening", 2))

    finals = {m["turn_id"]: m["text"] for m in peer.messages_of("transcript") if m["role"] == "avatar" and m["final"]}
    assert 0 < len(finals[1]) < len(REPLY_LONG) and finals[2] == REPLY_SHORT
    turns = (await http.get(f"/v1/live/sessions/{session_id}", headers=user.headers)).json()["turns"]
    assert [t["interrupted"] for t in turns] == [True, False]
    assert all(t["latency_ms"]["first_frame_sent"] for t in turns)
    nothing = await http.post(f"/v1/live/sessions/{session_id}/interrupt", headers=user.headers)
    assert nothing.json() == {"interrupted": False}


async def test_unknown_data_channel_messages_get_an_error_and_pings_a_pong(connected: tuple[LivePeer, str]) -> None:
    peer, _ = connected
    peer.channel.send("this is not json")
    error = await peer.wait_for(lambda m: m["type"] == "error")
    assert error["code"] == "invalid_message"
    peer.send({"type": "dance"})
    peer.send({"type": "ping", "id": 42})
    assert await peer.wait_for(lambda m: m["type"] == "pong") == {"type": "pong", "id": 42}
    assert "unknown data-channel message type" in peer.messages_of("error")[-1]["message"]
