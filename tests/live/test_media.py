"""What a real WebRTC client receives: speech with a lip-synced mouth, silence and idle motion between
turns, and silence within 150 ms of an interruption. Audio and video are decoded by the client (aiortc)
and the video is measured with the face landmarker."""

from __future__ import annotations

import asyncio
import statistics
import time

import httpx

from tests.fakes.openai_server import FakeOpenAIServer
from tests.live.analysis import first_open, measure_faces, spread
from tests.live.conftest import REPLY_LONG, REPLY_SHORT
from tests.live.peer_client import SILENCE_RMS, LivePeer
from tests.platform.conftest import METRICS_HEADERS
from tests.platform.users import TestUser as Account

MOUTH_OPEN = 0.05  # mouth gap ratio: the closed mouth measures about 0.00-0.01
FRAME_S = 0.04


def is_state(state: str):  # type: ignore[no-untyped-def]
    return lambda m: m["type"] == "state" and m["state"] == state


async def test_a_message_is_answered_with_speech_and_a_mouth_in_sync_with_it(
    connected: tuple[LivePeer, str], openai_server: FakeOpenAIServer, http: httpx.AsyncClient
) -> None:
    peer, _ = connected
    openai_server.behaviour.replies = [REPLY_SHORT]
    peer.record_video = True
    await asyncio.sleep(0.6)  # idle frames first: the closed mouth's baseline
    mark = len(peer.messages)
    sent_s = peer.say("Tell me about the ocean.")
    await peer.wait_for(is_state("speaking"), after=mark)
    await peer.wait_for(is_state("listening"), after=mark)
    peer.record_video = False

    speech_s = peer.speech_onset(sent_s)
    assert speech_s is not None, "no speech audio after the message"
    loudest = max(f.rms for f in peer.audio if f.arrival_s > sent_s)
    assert loudest > 0.03, f"speech too quiet: peak frame RMS {loudest:.4f}"

    measures = measure_faces([f for f in peer.video if f.image is not None])
    idle = [m.mouth for m in measures if m.arrival_s < sent_s]
    speaking = [m.mouth for m in measures if speech_s - 0.1 < m.arrival_s < speech_s + 1.5]
    assert len(idle) >= 8 and max(idle) < MOUTH_OPEN, f"the idle mouth should be closed: {max(idle):.3f}"
    assert max(speaking) > 0.12 and spread(speaking) > 0.1, "the mouth does not move with the speech"

    opened = first_open(measures, sent_s, MOUTH_OPEN)
    onset = peer.speech_onset_frame(sent_s)
    assert opened is not None and onset is not None
    # Both tracks as the server sent them (from RTP timestamps, which is also how a browser syncs them),
    # so a loaded client that decodes one track late does not count.
    offset_s = peer.sent_s(opened.pts) - peer.audio_sent_s(onset.pts)
    assert abs(offset_s) <= 0.040 + FRAME_S, f"mouth opens {offset_s * 1000:+.0f} ms from the voice"

    transcripts = [m for m in peer.messages_of("transcript")[-3:] if m["role"] == "avatar"]
    assert transcripts[-1]["final"] and transcripts[-1]["text"] == REPLY_SHORT
    [latency] = [m for m in peer.messages_of("latency") if m["turn_id"] == transcripts[-1]["turn_id"]]
    for stage in ("llm_first_token", "first_clause", "first_audio", "first_audio_sent", "first_frame_sent"):
        assert latency[f"{stage}_ms"] > 0
    metrics = (await http.get("/metrics", headers=METRICS_HEADERS)).text
    for stage in ("llm_first_token", "first_tts_audio", "first_frame_sent"):
        assert f'neura_live_stage_latency_seconds_count{{stage="{stage}"}}' in metrics
    assert "neura_live_sessions " in metrics


async def test_between_turns_the_avatar_idles_with_silence_blinks_and_head_motion(
    connected: tuple[LivePeer, str],
) -> None:
    peer, _ = connected
    peer.record_video = True
    start_s = time.monotonic()
    await asyncio.sleep(4.5)
    peer.record_video = False
    end_s = time.monotonic()

    fps = peer.video_fps(start_s + 0.5, end_s)
    assert 22.5 <= fps <= 27.5, f"idle video at {fps:.1f} fps"
    assert all(f.rms <= SILENCE_RMS for f in peer.audio if f.arrival_s > start_s), "idle audio is not silent"

    measures = measure_faces([f for f in peer.video if f.image is not None and f.arrival_s > start_s])
    eyes = [m.eyes for m in measures]
    open_eyes = statistics.median(eyes)
    assert min(eyes) < 0.75 * open_eyes, f"no blink in 4.5 s (eye ratio {min(eyes):.3f} vs {open_eyes:.3f})"
    assert max(m.mouth for m in measures) < MOUTH_OPEN, "the mouth opens while idle"
    head_px = max(spread([m.nose_x for m in measures]), spread([m.nose_y for m in measures]))
    assert head_px > 0.5, f"the head does not move ({head_px:.2f} px)"
    frames = [f.image for f in peer.video if f.image is not None]
    assert len({hash(frame.tobytes()) for frame in frames}) > 0.9 * len(frames), "idle frames repeat"


async def test_an_interrupt_silences_the_avatar_within_150_ms_and_closes_the_mouth(
    connected: tuple[LivePeer, str], openai_server: FakeOpenAIServer, http: httpx.AsyncClient, user: Account
) -> None:
    peer, session_id = connected
    openai_server.behaviour.replies = [REPLY_LONG]
    openai_server.behaviour.tokens_per_s = 15  # the answer is still streaming when it is interrupted
    mark = len(peer.messages)
    peer.say("Tell me a long story.")
    await peer.wait_for(is_state("speaking"), after=mark)
    await asyncio.sleep(1.0)
    await peer.wait_for_voice()  # in the middle of a word, not in a pause
    peer.record_video = True
    interrupt_s = peer.send({"type": "interrupt"})
    await peer.wait_for(is_state("listening"), after=mark)
    await asyncio.sleep(0.6)
    peer.record_video = False

    silent_s = peer.silence_onset(interrupt_s)
    assert silent_s is not None
    assert silent_s - interrupt_s <= 0.150, f"silent {1000 * (silent_s - interrupt_s):.0f} ms after the interrupt"
    measures = measure_faces([f for f in peer.video if f.image is not None])
    # Judged by when the server sent each frame, not when it arrived: on a loaded machine this client
    # may decode a frame sent before the interrupt well after it.
    after = [m.mouth for m in measures if peer.sent_s(m.pts) > interrupt_s + 0.150]
    assert len(after) >= 10, f"only {len(after)} frames measured after the interrupt"
    assert max(after) < MOUTH_OPEN, f"the mouth stays open: {max(after):.3f}"
    assert openai_server.wait_for_disconnect(2.0), "the language model's stream was not closed"

    final = [m for m in peer.messages_of("transcript") if m["role"] == "avatar" and m["final"]][-1]
    assert 0 < len(final["text"]) < len(REPLY_LONG)
    state = (await http.get(f"/v1/live/sessions/{session_id}", headers=user.headers)).json()
    assert state["turns"][-1]["interrupted"] is True
    assert state["state"] == "listening"
