"""Live avatar benchmark, voice turns: end of the user's speech -> first lip-synced frame, barge-in by voice.

    .venv/bin/python bench/live_voice.py [--turns 12] [--set LIVE_TURN_SPECULATE=0 ...]

The same set-up as ``bench/live.py`` (a fresh PostgreSQL database, Redis, the fake OpenAI-compatible
server with 50 ms to the first token and 80 tokens/s, the gateway as a subprocess, aiortc clients in
this process that decode what they receive). The client sends its microphone (a ``sendrecv`` audio
track): spoken questions made by NEURA's own voices, Piper and espeak in turn, in real time.

Each turn:

- ``voice_first_frame``: from the moment the question's last sample was sent to the first decoded video
  frame whose mouth is open (as in bench/live.py: inner-lip gap over mouth width above 0.04). It
  includes the end-of-turn silence (``LIVE_TURN_COMPLETE_SILENCE_MS`` for these questions, which end with
  "?"), the final decode of the question (from ``LIVE_VAD_PAUSE_MS`` on), what of the language model and
  the first clause's synthesis the speculative reply has not done during the silence, and the client's decode;
- ``voice_interrupt``: one second into the answer the client speaks again ("Wait, ..."); from the onset
  of that speech (its first voiced sample sent) to the first decoded audio frame from which on 200 ms
  stay silent (the avatar held: its voice stops at once, before anyone knows whether it was a question);
- what the gateway heard (the final user transcript): the word error rate over all questions.

:func:`voice_turns` does the measuring on an open gateway (``bench/live.py`` can call it); the last line
printed is one JSON object: ``voice_first_frame_p50_ms``, ``voice_first_frame_p95_ms``,
``voice_interrupt_p50_ms``, ``stt_wer_clean``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.live import MOUTH_OPEN, REPLY, SERVER_STAGES, Unmeasured, bench_gateway, new_account, summary  # noqa: E402
from tests.live.analysis import measure_faces  # noqa: E402
from tests.live.peer_client import LivePeer  # noqa: E402
from tests.stt.samples import spoken  # noqa: E402

from neura.encode.audio import resample  # noqa: E402
from neura.live.peer import use_host_addresses  # noqa: E402
from neura.live.spoken_track import SpokenAudioTrack  # noqa: E402
from neura.stt.scoring import word_error_rate  # noqa: E402

QUESTIONS = (
    "How many apples did Maria buy at the market yesterday?",
    "What is the capital of Australia?",
    "Where did you park the car this morning?",
    "Can you remind me to call Michael at seven tonight?",
    "Why is the deep ocean so dark and cold?",
    "Which animals make their own light under the sea?",
)
INTERRUPTION = "Wait, tell me more about the giant squid instead."
PAD_S = 0.1  # silence before and after each spoken question
VOICES = ("piper", "espeak")


def spoken_48k(voice: str, text: str) -> np.ndarray:
    return resample(spoken(voice, text, pad_s=PAD_S).samples, 16_000, 48_000)


async def voice_turn(
    peer: LivePeer, microphone: SpokenAudioTrack, question: np.ndarray, interruption: np.ndarray
) -> dict[str, Any]:
    mark = len(peer.messages)
    peer.record_video = True
    ended_s = await microphone.play(question)
    heard = await peer.wait_for(
        lambda m: m["type"] == "transcript" and m["role"] == "user" and m["final"], 60.0, after=mark
    )
    await peer.wait_until(lambda: peer.speech_onset(ended_s) is not None, 60.0)
    audio_s = peer.speech_onset(ended_s)
    assert audio_s is not None
    await asyncio.sleep(max(0.0, audio_s + 1.0 - time.monotonic()))  # one second into the answer
    peer.record_video = False
    await peer.wait_for_voice()
    onset_s = time.monotonic() + PAD_S
    spoken_again = microphone.play(interruption)
    await peer.wait_until(lambda: peer.silence_onset(onset_s) is not None, 10.0)
    silent_s = peer.silence_onset(onset_s)
    await spoken_again
    # the interruption becomes a turn too: let it start, then stop it to begin the next turn in quiet
    again = await peer.wait_for(
        lambda m: m["type"] == "transcript" and m["role"] == "user" and m["final"] and m["turn_id"] > heard["turn_id"],
        30.0,
        after=mark,
    )
    await peer.wait_for(
        lambda m: m["type"] == "state" and m["state"] == "speaking" and m["turn_id"] == again["turn_id"], 30.0
    )
    peer.send({"type": "interrupt"})
    await peer.wait_for(
        lambda m: m["type"] == "state" and m["state"] == "listening" and m["turn_id"] == again["turn_id"], 10.0
    )

    frames = [f for f in peer.video if f.image is not None and f.arrival_s > ended_s]
    opened = next((m for m in measure_faces(frames) if m.mouth > MOUTH_OPEN), None)
    for frame in peer.video:
        frame.image = None
    latency = next((m for m in peer.messages_of("latency")[::-1] if m["turn_id"] == heard["turn_id"]), {})
    if opened is None or silent_s is None:
        raise Unmeasured(f"no open mouth seen (a loaded client may miss it) or no silence measured: {heard['text']}")
    return {
        "heard": heard["text"],
        "voice_first_frame_ms": (opened.arrival_s - ended_s) * 1000,
        "voice_interrupt_ms": (silent_s - onset_s) * 1000,
        # the gateway's stages, from the end of the speech as its VAD placed it
        **{f"server_{stage}": latency.get(stage) or 0.0 for stage in SERVER_STAGES},
    }


async def voice_turns(http: httpx.AsyncClient, headers: dict[str, str], turns: int) -> dict[str, Any]:
    """``turns`` voice turns (after one warm-up) on a session of the gateway ``http`` talks to."""
    questions = [(QUESTIONS[i % len(QUESTIONS)], VOICES[i % len(VOICES)]) for i in range(turns + 1)]
    audio = {(text, voice): await asyncio.to_thread(spoken_48k, voice, text) for text, voice in set(questions)}
    interruption = await asyncio.to_thread(spoken_48k, "piper", INTERRUPTION)
    response = await http.post("/v1/live/sessions", json={}, headers=headers)
    response.raise_for_status()
    session_id = response.json()["id"]
    microphone = SpokenAudioTrack()
    peer = LivePeer(microphone)
    results, unmeasured = [], 0
    try:
        await peer.connect(http, session_id, headers)
        await asyncio.sleep(1.0)
        for index, key in enumerate(questions):
            try:
                result = await voice_turn(peer, microphone, audio[key], interruption)
            except Unmeasured as error:
                print(f"  voice turn {index}: {error}", flush=True)
                unmeasured += 1
                await asyncio.sleep(1.5)
                continue
            except TimeoutError:
                recent = [m for _, m in peer.messages[-12:]]
                raise RuntimeError(f"voice turn {index} stalled; the last messages: {json.dumps(recent)}") from None
            shown = {k: v if isinstance(v, str) else round(v) for k, v in result.items()}
            print(f"  voice turn {index}: {json.dumps(shown)}", flush=True)
            if index:
                results.append({**result, "question": key[0]})
            await asyncio.sleep(1.5)  # a pause between turns, as people leave
    finally:
        await peer.close()
        await http.delete(f"/v1/live/sessions/{session_id}", headers=headers)
    first = [r["voice_first_frame_ms"] for r in results]
    interrupt = [r["voice_interrupt_ms"] for r in results]
    return {
        "voice_first_frame_ms": summary(first),
        "voice_interrupt_ms": summary(interrupt),
        **{f"server_{stage}": summary([r[f"server_{stage}"] for r in results]) for stage in SERVER_STAGES},
        "stt_wer_clean": word_error_rate([r["question"] for r in results], [r["heard"] for r in results]),
        "turns": len(results),
        "unmeasured_turns": unmeasured,
    }


async def run(base_url: str, database_url: str, turns: int) -> dict[str, Any]:
    use_host_addresses(["127.0.0.1"])
    async with httpx.AsyncClient(base_url=base_url, timeout=60.0) as http:
        headers = await new_account(http, database_url)
        return await voice_turns(http, headers, turns)


def print_voice(results: dict[str, Any]) -> None:
    load = os.getloadavg()
    print(f"voice turns: {results['turns']}, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    for name in ("voice_first_frame_ms", "voice_interrupt_ms", *(f"server_{stage}" for stage in SERVER_STAGES)):
        figures = results[name]
        print(f"  {name:28s} p50 {figures['p50']:6.0f}  p95 {figures['p95']:6.0f}  max {figures['max']:6.0f}")
    print(f"  stt WER (clean, Piper + espeak over Opus): {results['stt_wer_clean']:.1%}")


def voice_headline(results: dict[str, Any]) -> dict[str, Any]:
    """The figures of :func:`voice_turns` for a last-line JSON (this bench's and ``bench/live.py``'s)."""
    return {
        "voice_first_frame_p50_ms": round(results["voice_first_frame_ms"]["p50"]),
        "voice_first_frame_p95_ms": round(results["voice_first_frame_ms"]["p95"]),
        "voice_interrupt_p50_ms": round(results["voice_interrupt_ms"]["p50"]),
        "stt_wer_clean": round(results["stt_wer_clean"], 4),
        "voice_turns": results["turns"],
        "voice_unmeasured_turns": results["unmeasured_turns"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=12)
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="a gateway setting (e.g. LIVE_TURN_SPECULATE=0)"
    )
    args = parser.parse_args()
    settings = dict(item.split("=", 1) for item in args.set)
    with bench_gateway([REPLY], settings) as gateway:
        results = asyncio.run(run(gateway.base_url, gateway.database_url, args.turns))
    print_voice(results)
    print(json.dumps({**voice_headline(results), "load_average_1m": round(os.getloadavg()[0], 1)}))


if __name__ == "__main__":
    main()
