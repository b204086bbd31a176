"""Talking to the live avatar: spoken questions made by NEURA's own voices (Piper and espeak) are sent as
the client's WebRTC microphone (aiortc, Opus), heard by the gateway's real VAD and Whisper, answered by
the fake language model (which echoes the transcript it got) and spoken back; barge-in by voice, and
what must not interrupt (a cough, "mm-hm", the avatar's own echo); bad microphone input."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import numpy as np
import numpy.typing as npt
import pytest

from neura.encode.audio import resample
from neura.live.spoken_track import SpokenAudioTrack
from neura.stt.scoring import word_error_rate
from tests.fakes._server import RecordedRequest
from tests.fakes.openai_server import FakeOpenAIServer
from tests.live.conftest import open_session, set_account
from tests.live.peer_client import LivePeer
from tests.live.test_cli_client import run_live
from tests.platform.users import TestUser as Account
from tests.stt.samples import RATE_HZ, spoken, wav_bytes

QUESTION = "How many apples did Maria buy at the market yesterday?"
REPLY_MEDIUM = (
    "Let me tell you about the sea. The ocean covers most of our planet, and it holds mountains taller "
    "than any on land. Whales sing to each other across hundreds of miles."
)


def echo_reply(request: RecordedRequest) -> str:
    """The fake model answers with what it was asked: the test sees what the gateway heard."""
    return f"You asked: {request.json['messages'][-1]['content']}"


def at_48k(samples_16k: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    return resample(samples_16k, RATE_HZ, 48_000)


async def speech(voice: str, text: str) -> npt.NDArray[np.float32]:
    """``text`` said by ``voice``, at 48 kHz. Made in a thread: a client busy synthesising would leave the
    gateway's connectivity checks unanswered, and the gateway would end the session."""
    return await asyncio.to_thread(lambda: at_48k(spoken(voice, text, pad_s=0.1).samples))


def cough() -> npt.NDArray[np.float32]:
    """A cough-like burst: 150 ms of loud, decaying, low-passed noise."""
    rng = np.random.default_rng(3)
    n = int(0.15 * 48_000)
    noise = np.convolve(rng.normal(0, 1, n), np.ones(12) / 12, mode="same")
    return (0.5 * noise * np.exp(-np.linspace(0, 4, n))).astype(np.float32)


@pytest.fixture
async def talking(http: httpx.AsyncClient, user: Account) -> AsyncIterator[tuple[LivePeer, SpokenAudioTrack]]:
    """A session whose client sends its microphone."""
    session_id = await open_session(http, user)
    microphone = SpokenAudioTrack()
    peer = LivePeer(microphone)
    try:
        await peer.connect(http, session_id, user.headers)
        yield peer, microphone
    finally:
        await peer.close()
        await http.delete(f"/v1/live/sessions/{session_id}", headers=user.headers)


def user_final(turn_id: int | None = None):  # type: ignore[no-untyped-def]
    return lambda m: (
        m["type"] == "transcript" and m["role"] == "user" and m["final"] and turn_id in (None, m["turn_id"])
    )


def avatar_final(turn_id: int):  # type: ignore[no-untyped-def]
    return lambda m: m["type"] == "transcript" and m["role"] == "avatar" and m["final"] and m["turn_id"] == turn_id


@pytest.mark.parametrize("voice", ["piper", "espeak"])
async def test_a_spoken_question_is_heard_and_answered(
    talking: tuple[LivePeer, SpokenAudioTrack], openai_server: FakeOpenAIServer, voice: str
) -> None:
    peer, microphone = talking
    openai_server.behaviour.replies = echo_reply
    ended_s = await microphone.play(await speech(voice, QUESTION))

    heard = await peer.wait_for(user_final(), timeout_s=20)
    assert word_error_rate([QUESTION], [heard["text"]]) <= 0.2, heard["text"]
    speaking = [m for _, m in peer.messages if m["type"] == "user_speech"]
    assert speaking[0] == {"type": "user_speech", "speaking": True, "turn_id": heard["turn_id"], "ignored": False}
    assert {"type": "user_speech", "speaking": False, "turn_id": heard["turn_id"], "ignored": False} in speaking
    partials = [m for _, m in peer.messages if m["type"] == "transcript" and m["role"] == "user" and not m["final"]]
    assert partials and all(p["turn_id"] == heard["turn_id"] for p in partials)  # transcribed while spoken

    answer = await peer.wait_for(avatar_final(heard["turn_id"]), timeout_s=30)
    assert openai_server.chat_requests[-1]["messages"][-1] == {"role": "user", "content": heard["text"]}
    assert answer["text"] == f"You asked: {heard['text']}"
    assert peer.speech_onset(ended_s) is not None  # and said it out loud
    latency = await peer.wait_for(lambda m: m["type"] == "latency" and m["turn_id"] == heard["turn_id"])
    assert 0 < latency["first_frame_sent_ms"] < 10_000  # counted from the end of the user's speech


async def test_speaking_over_the_avatar_stops_it(
    talking: tuple[LivePeer, SpokenAudioTrack], openai_server: FakeOpenAIServer
) -> None:
    peer, microphone = talking
    openai_server.behaviour.replies = [REPLY_MEDIUM, "Sure."]
    interruption = await speech("piper", "Wait, what about the whales in the deep ocean?")
    peer.say("Tell me about the sea.")
    await peer.wait_for(lambda m: m["type"] == "state" and m["state"] == "speaking", timeout_s=20)
    await peer.wait_for_voice()
    onset = microphone.play(interruption)
    started_s = time.monotonic()
    await peer.wait_for(lambda m: m["type"] == "user_speech" and m["speaking"], timeout_s=10)
    cut = await peer.wait_for(avatar_final(1), timeout_s=20)
    assert cut["text"] and len(cut["text"]) < len(REPLY_MEDIUM)  # cut short
    silent_s = peer.silence_onset(started_s)
    assert silent_s is not None and silent_s - started_s < 1.5, "the avatar went on talking over the user"
    await onset
    heard = await peer.wait_for(lambda m: user_final()(m) and m["turn_id"] > 1, timeout_s=20)
    assert "whales" in heard["text"].lower()
    await peer.wait_for(avatar_final(heard["turn_id"]), timeout_s=30)


async def test_a_cough_and_mm_hm_do_not_stop_the_avatar(
    talking: tuple[LivePeer, SpokenAudioTrack], openai_server: FakeOpenAIServer
) -> None:
    peer, microphone = talking
    openai_server.behaviour.replies = [REPLY_MEDIUM]
    mm_hm, uh_huh = await speech("piper", "Mm-hm."), await speech("espeak", "Uh-huh.")
    peer.say("Tell me about the sea.")
    await peer.wait_for_voice(timeout_s=20)
    await microphone.play(cough())
    await asyncio.sleep(1.0)
    await microphone.play(mm_hm)
    await asyncio.sleep(0.5)
    await microphone.play(uh_huh)

    whole = await peer.wait_for(avatar_final(1), timeout_s=60)
    assert whole["text"] == REPLY_MEDIUM  # not cut
    await asyncio.sleep(1.5)
    assert not [m for _, m in peer.messages if user_final()(m) and m["turn_id"] > 1]  # no turn was taken
    assert len(openai_server.chat_requests) == 1
    ignored = {m["turn_id"] for _, m in peer.messages if m["type"] == "user_speech" and m["ignored"]}
    started = {m["turn_id"] for _, m in peer.messages if m["type"] == "user_speech" and m["speaking"]}
    assert ignored == started  # whatever was heard was set aside


# Timing-sensitive: up to two reruns, each reported.
# the echo guard compares loudness envelopes over short windows: a loaded machine can shift them.
@pytest.mark.flaky(reruns=2)
@pytest.mark.usefixtures("frozen_heap")  # a garbage collection's stall would break the echo's timing
async def test_the_avatar_does_not_hear_itself(
    talking: tuple[LivePeer, SpokenAudioTrack], openai_server: FakeOpenAIServer
) -> None:
    """A client without echo cancellation: what it plays comes back into its microphone, 150 ms later."""
    peer, microphone = talking
    openai_server.behaviour.replies = [REPLY_MEDIUM]
    peer.record_audio = True
    peer.say("Tell me about the sea.")
    await peer.wait_for_voice(timeout_s=20)
    looped = 0
    deadline = time.monotonic() + 8.0
    while time.monotonic() < deadline:
        received = np.concatenate(peer.recorded_audio) if peer.recorded_audio else np.zeros(0, np.float32)
        if received.size > looped:
            microphone.play(0.6 * received[looped:])
            looped = received.size
        await asyncio.sleep(0.15)
    peer.record_audio = False
    whole = await peer.wait_for(avatar_final(1), timeout_s=60)
    assert whole["text"] == REPLY_MEDIUM
    assert len(openai_server.chat_requests) == 1


@pytest.mark.parametrize("kind", ["silence", "noise", "clipped", "telephone-8khz"])
async def test_bad_microphone_input(
    talking: tuple[LivePeer, SpokenAudioTrack], openai_server: FakeOpenAIServer, kind: str
) -> None:
    peer, microphone = talking
    openai_server.behaviour.replies = echo_reply
    clip = (await asyncio.to_thread(spoken, "piper", QUESTION, 0.1)).samples
    if kind == "silence":
        audio = np.zeros(3 * 48_000, np.float32)
    elif kind == "noise":
        audio = np.random.default_rng(5).normal(0, 0.05, 3 * 48_000).astype(np.float32)
    elif kind == "clipped":
        audio = at_48k(np.clip(clip * 8.0, -0.5, 0.5))
    else:  # a telephone line: 8 kHz
        audio = at_48k(resample(resample(clip, RATE_HZ, 8000), 8000, RATE_HZ))
    await microphone.play(audio)
    if kind in ("silence", "noise"):
        await asyncio.sleep(2.5)
        assert not [m for _, m in peer.messages if user_final()(m)]
        assert not openai_server.chat_requests
        return
    heard = await peer.wait_for(user_final(), timeout_s=20)
    assert word_error_rate([QUESTION], [heard["text"]]) <= 0.3, heard["text"]
    await peer.wait_for(avatar_final(heard["turn_id"]), timeout_s=30)


async def test_push_to_talk(talking: tuple[LivePeer, SpokenAudioTrack], openai_server: FakeOpenAIServer) -> None:
    peer, microphone = talking
    openai_server.behaviour.replies = echo_reply
    unheard, question = await speech("piper", "This is not heard."), await speech("piper", QUESTION)
    peer.send({"type": "voice_mode", "mode": "push_to_talk"})
    await asyncio.sleep(0.2)
    await microphone.play(unheard)
    await asyncio.sleep(1.5)
    assert not [m for _, m in peer.messages if m["type"] == "user_speech"]

    peer.send({"type": "talk", "pressed": True})
    await microphone.play(question)
    peer.send({"type": "talk", "pressed": False})
    heard = await peer.wait_for(user_final(), timeout_s=20)
    assert word_error_rate([QUESTION], [heard["text"]]) <= 0.2, heard["text"]
    await peer.wait_for(avatar_final(heard["turn_id"]), timeout_s=30)
    mark = len(peer.messages)
    await microphone.play(unheard)  # released: not heard again
    await asyncio.sleep(1.5)
    assert not [m for _, m in peer.messages[mark:] if m["type"] == "user_speech"]


async def test_text_only_sessions_refuse_voice_messages(connected: tuple[LivePeer, str]) -> None:
    peer, _ = connected
    peer.send({"type": "talk", "pressed": True})
    error = await peer.wait_for(lambda m: m["type"] == "error")
    assert error["code"] == "invalid_message" and "microphone" in error["message"]
    peer.send({"type": "voice_mode", "mode": "shouting"})
    bad = await peer.wait_for(lambda m: m["type"] == "error" and "mode" in m["message"])
    assert bad["code"] == "invalid_message"


async def test_neura_live_asks_by_voice(
    live_gateway: str, user: Account, database_url: str, openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    await set_account(database_url, user, plan="pro")
    async with httpx.AsyncClient(base_url=live_gateway, timeout=30) as client:
        created = await client.post("/v1/api-keys", json={"name": "voice"}, headers=user.headers)
    key = str(created.json()["key"])
    openai_server.behaviour.replies = echo_reply
    question = tmp_path / "question.wav"
    question.write_bytes(wav_bytes((await asyncio.to_thread(spoken, "espeak", QUESTION)).samples))
    result = await asyncio.to_thread(run_live, live_gateway, "--wav", str(question), api_key=key)
    assert result.returncode == 0, result.stderr
    heard = next(line.removeprefix("heard: ") for line in result.stdout.splitlines() if line.startswith("heard: "))
    assert word_error_rate([QUESTION], [heard]) <= 0.2, heard
    assert f"avatar: You asked: {heard}" in result.stdout

    silence = tmp_path / "silence.wav"
    silence.write_bytes(wav_bytes(np.zeros(2 * RATE_HZ, np.float32)))
    unheard = await asyncio.to_thread(run_live, live_gateway, "--wav", str(silence), api_key=key)
    assert unheard.returncode == 65 and "heard no question" in unheard.stderr, unheard.stderr


def test_neura_live_refuses_what_is_not_a_recording(live_gateway: str, tmp_path: Path) -> None:
    text = tmp_path / "question.wav"
    text.write_text("What day is it?\n" * 20)
    result = run_live(live_gateway, "--wav", str(text), api_key="nk_x")
    assert result.returncode == 65 and "not audio" in result.stderr.lower(), result.stderr
    both = run_live(live_gateway, "--wav", str(text), "--say", "Hello", api_key="nk_x")
    assert both.returncode == 2 and "either --say" in both.stderr


async def test_sessions_say_they_hear(http: httpx.AsyncClient, user: Account) -> None:
    created = await http.post("/v1/live/sessions", json={}, headers=user.headers)
    assert created.status_code == 201 and created.json()["voice_input"] is True
    await http.delete(f"/v1/live/sessions/{created.json()['id']}", headers=user.headers)


async def test_voice_turns_follow_each_other(
    talking: tuple[LivePeer, SpokenAudioTrack], openai_server: FakeOpenAIServer
) -> None:
    """A spoken question, its answer stopped by the interrupt button, then another spoken question."""
    peer, microphone = talking
    openai_server.behaviour.replies = [REPLY_MEDIUM, "Canberra."]
    first, second = await speech("piper", QUESTION), await speech("espeak", "What is the capital of Australia?")
    await microphone.play(first)
    heard = await peer.wait_for(user_final(), timeout_s=30)
    await peer.wait_for(lambda m: m["type"] == "state" and m["state"] == "speaking", timeout_s=30)
    await peer.wait_for_voice(timeout_s=20)
    peer.send({"type": "interrupt"})
    await peer.wait_for(avatar_final(heard["turn_id"]), timeout_s=20)
    await microphone.play(second)
    again = await peer.wait_for(lambda m: user_final()(m) and m["turn_id"] > heard["turn_id"], timeout_s=30)
    assert "australia" in again["text"].lower()
    await peer.wait_for(avatar_final(again["turn_id"]), timeout_s=30)


async def test_speaking_on_after_a_pause_cancels_the_reply_begun_in_the_silence(
    talking: tuple[LivePeer, SpokenAudioTrack], openai_server: FakeOpenAIServer
) -> None:
    """The reply to the words before a pause starts during it (speculation, held back); the user speaks on:
    it is dropped unheard, out of the history, and the answer is to the whole sentence. (Whether the
    speculation starts depends on the final decode of the first words ending within the pause, about
    1 s: on a loaded machine it may not; what must hold either way is checked either way, and
    test_pipeline's speculation test checks the cancellation deterministically.)"""
    peer, microphone = talking
    openai_server.behaviour.replies = echo_reply
    first, rest = await speech("piper", "I want to ask you about"), await speech("piper", "the whales of the north.")
    asked_before = len(openai_server.chat_requests)
    started_s = time.monotonic()
    microphone.play(first)
    # a pause (with the clips' padding about 0.8 s, under the 1.2 s an unfinished sentence waits for): the
    # final decode and the reply begin in it
    microphone.play(np.zeros(int(0.55 * 48_000), np.float32))
    ended_s = await microphone.play(rest)

    heard = await peer.wait_for(user_final(), timeout_s=30)
    assert "about" in heard["text"].lower() and "whales" in heard["text"].lower(), heard["text"]
    answer = await peer.wait_for(avatar_final(heard["turn_id"]), timeout_s=30)
    assert answer["text"] == f"You asked: {heard['text']}"  # the reply heard is the confirmed one
    requests = openai_server.chat_requests[asked_before:]
    asked = [r["messages"][-1]["content"] for r in requests]
    assert len(asked) in (1, 2) and asked[-1] == heard["text"], asked
    if len(asked) == 2:  # the speculative reply to the first words (cancelled)
        print(f"speculative reply to {asked[0]!r}, cancelled")
        assert "whales" not in asked[0].lower()
    assert [m["role"] for m in requests[-1]["messages"]] == ["system", "user"]  # nothing of it in the history
    onset = peer.speech_onset(started_s)
    assert onset is not None and onset > ended_s  # nothing was said before the user had finished
    users = [m for _, m in peer.messages if user_final()(m)]
    assert [m["turn_id"] for m in users] == [heard["turn_id"]]  # one turn
