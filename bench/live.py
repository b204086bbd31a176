"""Live avatar benchmark: latency to the first lip-synced frame and first speech, interruption, capacity.

    .venv/bin/python bench/live.py [--turns 30] [--together-rounds 5] [--voice-turns 12] [--max-sessions 8]
                                   [--window-s 10]

``--max-sessions 0`` skips the capacity steps (latency only).

Runs everything for real on this machine: a fresh PostgreSQL database (migrated), a Redis database,
the fake OpenAI-compatible server as a subprocess (~60-word replies, 50 ms to the first token,
80 tokens/s), the gateway as a subprocess (uvicorn), and aiortc clients in this process that decode
what they receive, like a browser would.

The replies take turns between several openers (:data:`OPENERS`): how long the first words take
depends on how the answer begins, and a two-word "Great question!" alone would hide what a long first
clause costs ("The main difference between these two approaches is cost." has nine words before its
first punctuation).

1. Turns (``--turns``, after one warm-up turn): a message on the data channel, then
   - first audio: the first decoded audio frame above -50 dBFS;
   - first frame: the first decoded video frame whose mouth is open (face landmarks: inner-lip gap
     over mouth width above 0.04; the idle mouth measures under 0.01);
   then, one second into the answer, an interrupt on the data channel and
   - interrupt: the first decoded audio frame from which on 200 ms stay silent.
   All three are client receive times minus the send time. aiortc's receiver holds each video frame
   until the next one starts arriving (40 ms) and each audio packet until four more have arrived
   (80 ms): those holds are included, as a client would see them; the table also shows them removed.
2. Turns together (``--together-rounds``): four sessions (four users) send their messages at the same
   instant, so their answers compete for the same speech synthesis threads and cores; first frame and
   first audio of each, as above.
3. Voice turns (``--voice-turns``): spoken questions on the client's microphone track, measured as
   ``bench/live_voice.py`` does (end of the user's speech -> first open-mouth frame decoded; speech onset
   over the avatar -> its audio silent; the word error rate of what the gateway heard).
4. Capacity: 1, 2, 3, ... sessions at once, first listening (idle avatars: blinks, breathing, head
   motion, silence), then all speaking at once (each answering a message through the whole window:
   TTS and lip sync on top); the received frame rate of every session over ``--window-s`` seconds.
   A step passes when every session receives at least 99 % of 25 fps. ``max_sessions`` and
   ``max_sessions_all_speaking`` are the last steps that passed. Each step also reports the CPU used
   by the gateway, by this client (decoding every stream) and by everything else on the machine:
   on a shared machine, other work takes cores from the sessions.

The last line printed is one JSON object with the headline figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.live.analysis import measure_faces  # noqa: E402
from tests.live.peer_client import AIORTC_AUDIO_HOLD_S, AIORTC_VIDEO_HOLD_S, LivePeer  # noqa: E402
from tests.servers import free_port, stop_process  # noqa: E402

from neura.db.migrate import upgrade  # noqa: E402
from neura.live.peer import use_host_addresses  # noqa: E402

OPENERS = (
    "Sure, here is a quick overview.",
    "The main difference between these two approaches is cost.",
    "Great question!",
    "In most cases the simplest option is also the cheapest one to run.",
    "Honestly it depends on how much time you have, but here is what I would do.",
)
BODY = (
    "The deep ocean is the largest habitat on Earth, and most of it has never been explored. "
    "Sunlight fades within a few hundred meters, so many animals make their own light. "
    "Giant squid, glowing jellyfish and tiny shrimp all live down there, under enormous pressure, "
    "in water that is close to freezing, and far from any light."
)
REPLIES = tuple(f"{opener} {BODY}" for opener in OPENERS)  # the fake LLM answers with each in turn
REPLY = REPLIES[1]  # for benches that answer with one reply: an opener of nine words before its first stop
TOGETHER_SESSIONS = 4
SERVER_STAGES = ("llm_first_token_ms", "first_clause_ms", "first_audio_ms", "first_frame_sent_ms")  # of `latency`
MOUTH_OPEN = 0.04
TARGET_FPS = 25.0
PG_ADMIN_URL = os.environ.get("NEURA_BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("NEURA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")


# --- services
async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@contextmanager
def fresh_database() -> Iterator[str]:
    name = f"neura_bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def process(args: list[str], env: dict[str, str], log: Path, ready_url: str, timeout_s: float = 60.0) -> Iterator[int]:
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if httpx.get(ready_url, timeout=1.0).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{args[2]} did not start; see {log}")
            time.sleep(0.2)
        yield proc.pid
    finally:
        stop_process(proc)


@dataclass(frozen=True)
class Gateway:
    """What :func:`bench_gateway` started: the gateway's URL and pid, its database, its log."""

    base_url: str
    database_url: str
    pid: int
    log: Path


@contextmanager
def bench_gateway(replies: list[str], extra_env: dict[str, str] | None = None) -> Iterator[Gateway]:
    """A fresh database and Redis db, the fake model (50 ms to the first token, 80 tokens/s, answering
    with ``replies`` in turn) and the gateway, both as subprocesses; ``extra_env`` adds gateway settings.
    On a failure inside, the gateway's log ends the output."""
    redis.Redis.from_url(REDIS_URL).flushdb()
    with (
        tempfile.TemporaryDirectory(prefix="neura-bench-live-") as tmp,
        fresh_database() as database_url,
        serve_gateway(Path(tmp), database_url, REDIS_URL, replies, extra_env) as gateway,
    ):
        yield gateway


@contextmanager
def serve_gateway(
    folder: Path, database_url: str, redis_url: str, replies: list[str], extra_env: dict[str, str] | None = None
) -> Iterator[Gateway]:
    """The fake model and the gateway as subprocesses on a migrated ``database_url`` and ``redis_url``, their
    files and logs in ``folder`` (:func:`bench_gateway` with the database and Redis given)."""
    reply_files = [folder / f"reply-{i}.txt" for i in range(len(replies))]
    for path, reply in zip(reply_files, replies, strict=True):
        path.write_text(reply, encoding="utf-8")
    llm_port, gateway_port = free_port(), free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    fake = [sys.executable, "-m", "tests.fakes.openai_server", "--port", str(llm_port)]
    fake += [arg for path in reply_files for arg in ("--reply-file", str(path))]
    fake += ["--ttft-ms", "50", "--tokens-per-s", "80"]
    gateway_env = {
        **env,
        "ENV": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "STORAGE_DIR": str(folder / "storage"),
        "RATE_LIMIT_PER_MINUTE": "100000",
        "LIVE_MESSAGES_PER_MINUTE": "100000",
        "LIVE_PEER_TIMEOUT_S": "30",  # a client busy measuring faces on a loaded machine is not gone
        "LLM_PROVIDER": "lmstudio",
        "LMSTUDIO_BASE_URL": f"http://127.0.0.1:{llm_port}/v1",
        "WEBRTC_HOST_ADDRESSES": "127.0.0.1",
        "WEBRTC_ICE_SERVERS": "",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{gateway_port}",
        **(extra_env or {}),
    }
    gateway = [sys.executable, "-m", "uvicorn", "--factory", "neura.gateway.app:app_from_environment"]
    gateway += ["--host", "127.0.0.1", "--port", str(gateway_port), "--log-level", "warning"]
    base_url = f"http://127.0.0.1:{gateway_port}"
    log = folder / "gateway.log"
    with (
        process(fake, env, folder / "llm.log", f"http://127.0.0.1:{llm_port}/v1/models"),
        process(gateway, gateway_env, log, f"{base_url}/healthz") as gateway_pid,
    ):
        try:
            yield Gateway(base_url, database_url, gateway_pid, log)
        except Exception:
            print("the gateway's log ends:\n" + log.read_text(errors="replace")[-4000:], file=sys.stderr)
            raise


# --- measurements
def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds all processes on this machine have used so far (every core), from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))]


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": percentile(values, 50), "p95": percentile(values, 95), "min": min(values), "max": max(values)}


async def first_open_mouth_s(peer: LivePeer, sent_s: float) -> float | None:
    """Arrival time of the first recorded frame after ``sent_s`` with an open mouth; frees the images.
    The face landmarker runs on a thread: the event loop must keep answering the peers' consent checks."""
    frames = [f for f in peer.video if f.image is not None and f.arrival_s > sent_s]
    measures = await asyncio.to_thread(measure_faces, frames)
    opened = next((m for m in measures if m.mouth > MOUTH_OPEN), None)
    for frame in peer.video:
        frame.image = None
    return None if opened is None else opened.arrival_s


def first_clause(peer: LivePeer, after: int) -> str:
    """The first clause the avatar spoke after message ``after`` (its first transcript on the data channel)."""
    spoken = (m for _, m in peer.messages[after:] if m["type"] == "transcript" and m["role"] == "avatar")
    return next((m["text"] for m in spoken), "")


def opener_index(clause: str) -> int:
    """Which of :data:`OPENERS` an answer whose first clause is ``clause`` began with (-1: none)."""
    return next((i for i, opener in enumerate(OPENERS) if clause and opener.startswith(clause)), -1)


async def wait_for_speech(peer: LivePeer, sent_s: float, mark: int, timeout_s: float = 15.0) -> None:
    """Until the answer to the message sent at ``sent_s`` is heard; else fail with what the session said."""
    try:
        await peer.wait_until(lambda: peer.speech_onset(sent_s) is not None, timeout_s)
    except TimeoutError:
        said = [m for _, m in peer.messages[mark:] if m["type"] != "pong"]
        raise RuntimeError(f"no speech {timeout_s:.0f} s after a message; the session said {said}") from None


class Unmeasured(Exception):
    """A turn whose first open mouth or silence after the interrupt was not seen (a loaded client may
    decode too few frames): counted and reported, not measured."""


async def one_turn(peer: LivePeer, index: int) -> dict[str, float]:
    mark = len(peer.messages)
    peer.record_video = True
    sent_s = peer.say(f"Tell me about the deep ocean, please ({index}).")
    await wait_for_speech(peer, sent_s, mark)
    audio_s = peer.speech_onset(sent_s)
    assert audio_s is not None
    await asyncio.sleep(max(0.0, audio_s + 1.0 - time.monotonic()))  # one second into the answer
    peer.record_video = False
    await peer.wait_for_voice()
    interrupt_s = peer.send({"type": "interrupt"})
    await peer.wait_for(lambda m: m["type"] == "state" and m["state"] == "listening", after=mark)
    await asyncio.sleep(0.4)
    silent_s = peer.silence_onset(interrupt_s)
    latency = next((m for m in peer.messages_of("latency")[::-1]), {})
    opened_s = await first_open_mouth_s(peer, sent_s)
    if opened_s is None or silent_s is None:
        raise Unmeasured(f"turn {index}: no open mouth or no silence measured")
    return {
        "first_frame_ms": (opened_s - sent_s) * 1000,
        "first_audio_ms": (audio_s - sent_s) * 1000,
        "interrupt_ms": (silent_s - interrupt_s) * 1000,
        "server_llm_first_token_ms": latency.get("llm_first_token_ms") or 0.0,
        "server_first_clause_ms": latency.get("first_clause_ms") or 0.0,
        "server_first_audio_ms": latency.get("first_audio_ms") or 0.0,
        "server_first_frame_sent_ms": latency.get("first_frame_sent_ms") or 0.0,
        "opener": opener_index(first_clause(peer, mark)),
    }


async def turns_together(http: httpx.AsyncClient, database_url: str, rounds: int) -> list[dict[str, float]]:
    """``rounds`` times (after one warm-up round), :data:`TOGETHER_SESSIONS` sessions of as many users
    send a message at the same instant; the first open-mouth frame and first audio of each answer."""
    owners = [await new_account(http, database_url) for _ in range(TOGETHER_SESSIONS)]
    peers = [await open_peer(http, owner) for owner in owners]
    measured: list[dict[str, float]] = []
    try:
        await asyncio.sleep(1.5)  # settle: ICE, DTLS, the first keyframe
        for round_index in range(rounds + 1):
            marks = [len(peer.messages) for peer, _ in peers]
            for peer, _ in peers:
                peer.record_video = True
            sent = [peer.say(f"Tell me about the deep ocean ({round_index}).") for peer, _ in peers]
            for (peer, _), sent_s, mark in zip(peers, sent, marks, strict=True):
                await wait_for_speech(peer, sent_s, mark)
            await asyncio.sleep(0.5)  # the mouth opens with the voice: half a second covers it
            for peer, _ in peers:
                peer.record_video = False
                peer.send({"type": "interrupt"})
            for (peer, _), mark in zip(peers, marks, strict=True):
                await peer.wait_for(lambda m: m["type"] == "state" and m["state"] == "listening", after=mark)
            for (peer, _), sent_s in zip(peers, sent, strict=True):
                audio_s, opened_s = peer.speech_onset(sent_s), await first_open_mouth_s(peer, sent_s)
                if audio_s is None or opened_s is None:
                    print(f"  round {round_index}: no open mouth or no speech measured", flush=True)
                elif round_index:
                    latency = next((m for _, m in peer.messages[mark:][::-1] if m["type"] == "latency"), {})
                    measured.append(
                        {
                            "first_frame_ms": (opened_s - sent_s) * 1000,
                            "first_audio_ms": (audio_s - sent_s) * 1000,
                            **{f"server_{stage}": latency.get(stage) or 0.0 for stage in SERVER_STAGES},
                        }
                    )
            await asyncio.sleep(0.5)
    finally:
        await close_peers(http, peers, owners)
    return measured


async def close_peers(http: httpx.AsyncClient, peers: list[tuple[LivePeer, str]], owners: list[dict[str, str]]) -> None:
    for (peer, session_id), owner in zip(peers, owners, strict=True):
        await peer.close()
        await http.delete(f"/v1/live/sessions/{session_id}", headers=owner)


async def open_peer(http: httpx.AsyncClient, headers: dict[str, str]) -> tuple[LivePeer, str]:
    response = await http.post("/v1/live/sessions", json={}, headers=headers)
    response.raise_for_status()
    session_id = response.json()["id"]
    peer = LivePeer()
    await peer.connect(http, session_id, headers)
    return peer, session_id


async def new_account(http: httpx.AsyncClient, database_url: str) -> dict[str, str]:
    """A fresh user on the pro plan with plenty of credits (set with ``neura users``, as an operator
    would); returns its auth headers."""
    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    signup = await http.post("/v1/auth/signup", json={"email": email, "password": "bench pass 1234"})
    signup.raise_for_status()
    await neura_users(database_url, "set-plan", email, "pro", "--reason", "bench/live.py")
    await neura_users(database_url, "grant-credits", email, "1000000", "--reason", "bench/live.py")
    return {"Authorization": f"Bearer {signup.json()['access_token']}"}


async def neura_users(database_url: str, *args: str) -> None:
    """``neura users ARGS`` in a subprocess (the event loop keeps serving the open peers meanwhile)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "DATABASE_URL": database_url, "ENV": "test"}
    command = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "neura.cli", "users", *args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    _, err = await command.communicate()
    if command.returncode != 0:
        raise RuntimeError(f"neura users {' '.join(args)} failed ({command.returncode}): {err.decode().strip()}")


async def capacity(
    http: httpx.AsyncClient,
    database_url: str,
    max_sessions: int,
    window_s: float,
    gateway_pid: int,
    *,
    speaking: bool,
) -> list[dict[str, Any]]:
    """Sessions of several users (a plan allows only a few at a time), one more per step; with
    ``speaking`` every session answers a message through the whole window (TTS, lip sync)."""
    peers: list[tuple[LivePeer, str]] = []
    owners: list[dict[str, str]] = []
    steps: list[dict[str, Any]] = []
    try:
        for count in range(1, max_sessions + 1):
            owners.append(await new_account(http, database_url))
            peers.append(await open_peer(http, owners[-1]))
            await asyncio.sleep(1.5)  # settle: ICE, DTLS, the first keyframe
            if speaking:
                for peer, _ in peers:
                    peer.say("Tell me about the deep ocean.")
            start = time.monotonic()
            cpu_before = (cpu_seconds(gateway_pid), time.process_time(), machine_busy_seconds())
            await asyncio.sleep(window_s)
            cpu_after = (cpu_seconds(gateway_pid), time.process_time(), machine_busy_seconds())
            gateway_cpu, client_cpu, machine_cpu = (
                100 * (b - a) / window_s for a, b in zip(cpu_before, cpu_after, strict=True)
            )
            fps = [peer.video_fps(start, start + window_s) for peer, _ in peers]
            skipped = 0
            for (_, session_id), owner in zip(peers, owners, strict=True):
                state = (await http.get(f"/v1/live/sessions/{session_id}", headers=owner)).json()
                skipped += state["media"]["video_frames_skipped"]
            for peer, _ in peers:
                peer.send({"type": "interrupt"})
            worst = min(fps)
            step = {
                "sessions": count,
                "speaking": speaking,
                "min_fps": round(worst, 2),
                "mean_fps": round(statistics.mean(fps), 2),
                "dropped_pct": round(max(0.0, 100 * (1 - worst / TARGET_FPS)), 2),
                "server_skipped_frames": skipped,
                "gateway_cpu_pct": round(gateway_cpu),
                "client_cpu_pct": round(client_cpu),
                "other_cpu_pct": round(max(0.0, machine_cpu - gateway_cpu - client_cpu)),
            }
            step["ok"] = step["dropped_pct"] < 1.0
            steps.append(step)
            state = "speaking" if speaking else "listening"
            print(
                f"  {count} {state} session(s): min {worst:.2f} fps, dropped {step['dropped_pct']:.2f} %, "
                f"cpu: gateway {gateway_cpu:.0f} %, client {client_cpu:.0f} %, others {step['other_cpu_pct']} %",
                flush=True,
            )
            if not step["ok"]:
                break
            await asyncio.sleep(1.0)
    finally:
        await close_peers(http, peers, owners)
    return steps


async def run(args: argparse.Namespace, base_url: str, gateway_pid: int) -> dict[str, Any]:
    use_host_addresses(["127.0.0.1"])
    async with httpx.AsyncClient(base_url=base_url, timeout=60.0) as http:
        headers = await new_account(http, args.database_url)
        print(f"turns: 1 warm-up + {args.turns}", flush=True)
        peer, session_id = await open_peer(http, headers)
        await asyncio.sleep(1.0)
        turns, unmeasured = [], 0
        for index in range(args.turns + 1):  # turn 0 warms up
            try:
                turn = await one_turn(peer, index)
            except Unmeasured as error:
                print(f"  {error}", flush=True)
                unmeasured += 1
                continue
            if index:
                turns.append(turn)
            await asyncio.sleep(0.3)
        await peer.close()
        await http.delete(f"/v1/live/sessions/{session_id}", headers=headers)

        together: list[dict[str, float]] = []
        if args.together_rounds:
            print(f"together: {TOGETHER_SESSIONS} sessions, 1 warm-up + {args.together_rounds} rounds", flush=True)
            together = await turns_together(http, args.database_url, args.together_rounds)

        voice: dict[str, Any] = {}
        if args.voice_turns:
            from bench.live_voice import voice_turns  # it imports this module's helpers

            print(f"voice turns: 1 warm-up + {args.voice_turns}", flush=True)
            voice = await voice_turns(http, headers, args.voice_turns)

        print("capacity:", flush=True)
        steps = await capacity(http, args.database_url, args.max_sessions, args.window_s, gateway_pid, speaking=False)
        steps += await capacity(http, args.database_url, args.max_sessions, args.window_s, gateway_pid, speaking=True)
    return {"turns": turns, "unmeasured_turns": unmeasured, "together": together, "voice": voice, "capacity": steps}


def print_row(name: str, stats: dict[str, float]) -> None:
    print(f"{name:<48}{stats['p50']:>8.0f}{stats['p95']:>8.0f}{stats['min']:>8.0f}{stats['max']:>8.0f}")


def report_turns(turns: list[dict[str, Any]]) -> dict[str, Any]:
    """The single-session turns: the latency table, then the figures for the headline."""
    column = {key: summary([t[key] for t in turns]) for key in turns[0] if key != "opener"}
    corrected = {
        "first_frame_ms": summary([t["first_frame_ms"] - 1000 * AIORTC_VIDEO_HOLD_S for t in turns]),
        "first_audio_ms": summary([t["first_audio_ms"] - 1000 * AIORTC_AUDIO_HOLD_S for t in turns]),
        "interrupt_ms": summary([t["interrupt_ms"] - 1000 * AIORTC_AUDIO_HOLD_S for t in turns]),
    }
    print()
    print(f"{'measure (ms, ' + str(len(turns)) + ' turns)':<48}{'p50':>8}{'p95':>8}{'min':>8}{'max':>8}")
    rows = [
        ("message -> first open-mouth frame decoded", column["first_frame_ms"]),
        ("  same, without aiortc's 40 ms video hold", corrected["first_frame_ms"]),
        ("message -> first speech audio decoded", column["first_audio_ms"]),
        ("  same, without aiortc's 80 ms audio hold", corrected["first_audio_ms"]),
        ("interrupt -> audio silent (decoded)", column["interrupt_ms"]),
        ("  same, without aiortc's 80 ms audio hold", corrected["interrupt_ms"]),
        ("server: LLM first token", column["server_llm_first_token_ms"]),
        ("server: first clause ready", column["server_first_clause_ms"]),
        ("server: first TTS audio", column["server_first_audio_ms"]),
        ("server: first speech frame sent", column["server_first_frame_sent_ms"]),
    ]
    for name, stats in rows:
        print_row(name, stats)
    print("first open-mouth frame by opener:")
    for index, opener in enumerate(OPENERS):
        of_opener = [t["first_frame_ms"] for t in turns if t["opener"] == index]
        if of_opener:
            print_row(f"  {opener[:44]}", summary(of_opener))
    return {
        "first_frame_p50_ms": round(column["first_frame_ms"]["p50"], 1),
        "first_frame_p95_ms": round(column["first_frame_ms"]["p95"], 1),
        "first_audio_p50_ms": round(column["first_audio_ms"]["p50"], 1),
        "first_audio_p95_ms": round(column["first_audio_ms"]["p95"], 1),
        "llm_ttft_ms": round(column["server_llm_first_token_ms"]["p50"], 1),
        "interrupt_p50_ms": round(column["interrupt_ms"]["p50"], 1),
        "interrupt_p95_ms": round(column["interrupt_ms"]["p95"], 1),
        "turns": len(turns),
        "first_frame_p50_ms_without_receiver_hold": round(corrected["first_frame_ms"]["p50"], 1),
        "first_audio_p50_ms_without_receiver_hold": round(corrected["first_audio_ms"]["p50"], 1),
        "interrupt_p50_ms_without_receiver_hold": round(corrected["interrupt_ms"]["p50"], 1),
    }


def report_together(together: list[dict[str, float]]) -> dict[str, Any]:
    if not together:
        return {}
    frame, audio = (summary([t[key] for t in together]) for key in ("first_frame_ms", "first_audio_ms"))
    print()
    print(f"{TOGETHER_SESSIONS} sessions whose turns start together ({len(together)} answers)")
    print_row("  message -> first open-mouth frame decoded", frame)
    print_row("  message -> first speech audio decoded", audio)
    for stage in SERVER_STAGES:
        name = stage.removesuffix("_ms").replace("_", " ")
        print_row(f"  server: {name}", summary([t[f"server_{stage}"] for t in together]))
    return {
        "first_frame_p50_ms_4_sessions": round(frame["p50"], 1),
        "first_frame_p95_ms_4_sessions": round(frame["p95"], 1),
        "first_audio_p95_ms_4_sessions": round(audio["p95"], 1),
    }


def report_voice(voice: dict[str, Any]) -> dict[str, Any]:
    if not voice:
        return {}
    from bench.live_voice import print_voice, voice_headline

    print()
    print_voice(voice)
    return voice_headline(voice)


def report_capacity(steps: list[dict[str, Any]]) -> dict[str, Any]:
    if not steps:
        return {}
    print()
    header = f"{'sessions':>8}{'state':>10}{'min fps':>10}{'mean fps':>10}{'dropped %':>11}{'server skips':>14}"
    print(header + f"{'gateway cpu %':>15}{'client cpu %':>14}{'others cpu %':>14}")
    for step in steps:
        state = "speaking" if step["speaking"] else "listening"
        print(
            f"{step['sessions']:>8}{state:>10}{step['min_fps']:>10.2f}{step['mean_fps']:>10.2f}"
            f"{step['dropped_pct']:>11.2f}{step['server_skipped_frames']:>14}"
            f"{step['gateway_cpu_pct']:>15}{step['client_cpu_pct']:>14}{step['other_cpu_pct']:>14}"
        )
    passed = [s["sessions"] for s in steps if s["ok"] and not s["speaking"]]
    passed_speaking = [s["sessions"] for s in steps if s["ok"] and s["speaking"]]
    return {
        "max_sessions": max(passed) if passed else 0,
        "max_sessions_all_speaking": max(passed_speaking) if passed_speaking else 0,
        "other_processes_cpu_pct_during_capacity": round(statistics.mean(s["other_cpu_pct"] for s in steps)),
    }


def report(results: dict[str, Any]) -> dict[str, Any]:
    """The tables, and the headline: one part per phase (a new phase, such as voice turns, adds its
    own ``report_*`` part here)."""
    return {
        **report_turns(results["turns"]),
        "unmeasured_turns": results["unmeasured_turns"],
        **report_together(results["together"]),
        **report_voice(results["voice"]),
        **report_capacity(results["capacity"]),
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus, load {os.getloadavg()[0]:.1f}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--max-sessions", type=int, default=8)
    parser.add_argument("--window-s", type=float, default=10.0)
    parser.add_argument("--together-rounds", type=int, default=5, help="rounds of 4 turns started together; 0: none")
    parser.add_argument("--voice-turns", type=int, default=12, help="spoken turns (bench/live_voice.py); 0: none")
    args = parser.parse_args()

    sessions = max(1, args.max_sessions, TOGETHER_SESSIONS if args.together_rounds else 0)
    with bench_gateway(list(REPLIES), {"LIVE_MAX_SESSIONS": str(sessions)}) as gateway:
        args.database_url = gateway.database_url
        results = asyncio.run(run(args, gateway.base_url, gateway.pid))
        headline = report(results)
    print(json.dumps(headline))


if __name__ == "__main__":
    main()
