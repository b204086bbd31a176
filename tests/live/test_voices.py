"""A live session speaks with the voice it was created with: the session reports it, and the audio a
real WebRTC client decodes has that voice's pitch (espeak-ng's man's voice and its female variant)."""

from __future__ import annotations

import httpx
import numpy as np

from tests.fakes.openai_server import FakeOpenAIServer
from tests.live.conftest import REPLY_SHORT
from tests.live.peer_client import AUDIO_CLOCK_HZ, LivePeer
from tests.platform.users import TestUser as Account
from tests.tts.conftest import median_pitch_hz


async def _spoken_pitch_hz(http: httpx.AsyncClient, user: Account, voice: str) -> float:
    created = await http.post("/v1/live/sessions", json={"voice": voice}, headers=user.headers)
    assert created.status_code == 201, created.text
    session_id = created.json()["id"]
    assert created.json()["voice"] == voice
    state = (await http.get(f"/v1/live/sessions/{session_id}", headers=user.headers)).json()
    assert state["voice"] == voice
    try:
        async with LivePeer() as peer:
            await peer.connect(http, session_id, user.headers)
            peer.record_audio = True
            mark = len(peer.messages)
            peer.say("Tell me about the ocean.")
            await peer.wait_for(lambda m: m["type"] == "state" and m["state"] == "speaking", after=mark)
            await peer.wait_for(lambda m: m["type"] == "state" and m["state"] == "listening", after=mark)
            peer.record_audio = False
            audio = np.concatenate(peer.recorded_audio)
    finally:
        await http.delete(f"/v1/live/sessions/{session_id}", headers=user.headers)
    assert audio.size > AUDIO_CLOCK_HZ, "less than a second of audio"
    return median_pitch_hz(audio, AUDIO_CLOCK_HZ)


async def test_a_session_speaks_with_the_voice_it_was_created_with(
    http: httpx.AsyncClient, user: Account, openai_server: FakeOpenAIServer
) -> None:
    openai_server.behaviour.replies = [REPLY_SHORT, REPLY_SHORT]
    low = await _spoken_pitch_hz(http, user, "espeak:en-us")
    high = await _spoken_pitch_hz(http, user, "espeak:en-us+f3")
    assert low < 130 < 160 < high, (low, high)


async def test_a_session_without_a_voice_uses_the_servers_and_reports_it(
    http: httpx.AsyncClient, user: Account
) -> None:
    created = await http.post("/v1/live/sessions", json={}, headers=user.headers)
    assert created.status_code == 201, created.text
    assert created.json()["voice"] == "piper:en_US-joe-medium"
    await http.delete(f"/v1/live/sessions/{created.json()['id']}", headers=user.headers)
    unknown = await http.post("/v1/live/sessions", json={"voice": "espeak:fr"}, headers=user.headers)
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "unknown_voice"
    missing = await http.post("/v1/live/sessions", json={"voice": "xtts"}, headers=user.headers)
    assert missing.status_code == 503 and missing.json()["error"]["code"] == "engine_unavailable"
