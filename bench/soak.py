"""Live soak: several live sessions for N minutes, a turn every ~20 s (a third of them interrupted),
sessions closed and new ones opened throughout; what the gateway process keeps afterwards.

    .venv/bin/python bench/soak.py --minutes 30 [--sessions 3]

Everything runs for real on this machine: a PostgreSQL cluster and a Redis server of its own (free
loopback ports, temporary folders), the fake OpenAI-compatible language model (a ~35-word answer, 80
tokens/s), the gateway as a uvicorn subprocess, and aiortc clients in this process that decode all
they receive. Phases:

1. warm-up: ``--sessions`` sessions open, answer one message each and close; the gateway is then idle
   and warm (engines loaded, executor threads started): its asyncio tasks, threads, peer connections
   and RSS are the *idle baseline*;
2. soak: ``--sessions`` slots, each opening a session, sending a message every 15-25 s (one in three
   interrupted 1-3 s into its answer), closing it after 40-90 s and opening the next. The RSS a fifth
   of the way in (at least 30 s) is the *warm baseline*; ``rss_growth_pct`` compares the last samples
   with it;
3. end: one more message in each open session, its A/V offset measured from the decoded frames and
   audio (when the mouth opened, between frames, against the first speech sample, both as the server
   sent them, from RTP timestamps; :class:`AVOffset`): ``av_offset_ms_max`` (and
   ``av_offset_frames_ms_max``, whole frames, as earlier runs measured it); then every session closes
   and, after 5 s, ``rss_after_close_pct``
   (against the warm baseline) and the tasks, threads and peer connections left over the idle baseline
   (``leaked_tasks``, ``leaked_threads``, ``leaked_peers``).

``frame_drop_pct``: video frames missing from 25 fps over every session's life (from one second after
it connected until it closed), as this client decoded them; ``server_frame_skip_pct``: the frames the
gateway itself skipped because it was late making them (its own count, read from the session before it
closes), which tells the gateway's misses from this client's (both share the machine's cores:
``cpu_cores_used`` says how many each used on average during the soak). The gateway's numbers come from
``/proc/<pid>`` and its ``/metrics`` (``neura_event_loop_tasks``, ``neura_live_peer_connections``).
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.live import cpu_seconds, serve_gateway  # noqa: E402
from tests.faults.services import own_services  # noqa: E402
from tests.live.analysis import FaceMeasure, measure_faces  # noqa: E402
from tests.live.peer_client import SILENCE_RMS, LivePeer  # noqa: E402

from neura.config import Settings  # noqa: E402
from neura.live.peer import use_host_addresses  # noqa: E402
from neura.live.timeline import AUDIO_RATE_HZ, FPS  # noqa: E402
from neura.live.tracks import VIDEO_CLOCK_HZ  # noqa: E402

REPLY = (
    "The deep ocean is the largest habitat on Earth. Sunlight fades within a few hundred meters, so "
    "many animals there make their own light, and most of it has never been explored."
)
TARGET_FPS = 25.0
MOUTH_OPEN = 0.04
METRICS_TOKEN = "soak-metrics-token-0123456789"
SAMPLE_EVERY_S = 5.0


@dataclass
class Sample:
    at_s: float
    rss_mib: float
    threads: int
    tasks: int
    peers: int


class SessionEnded(Exception):
    """The server closed a session the soak had not closed (its reason is the message)."""


@dataclass
class Soak:
    http: httpx.AsyncClient
    database_url: str
    gateway_pid: int
    rng: random.Random
    samples: list[Sample] = field(default_factory=list)
    frames_received: int = 0
    frames_expected: float = 0.0
    server_frames_sent: int = 0  # as the gateway counted them (GET /v1/live/sessions/{id} "media")
    server_frames_skipped: int = 0  # frames the gateway skipped because it was late making them
    turns: int = 0
    interrupts: int = 0
    sessions_opened: int = 0
    sessions_dropped: list[str] = field(default_factory=list)  # closed by the server: why

    async def sample(self) -> Sample:
        status = Path(f"/proc/{self.gateway_pid}/status").read_text()
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        metrics = await self.http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        values = {
            line.split()[0]: float(line.split()[1])
            for line in metrics.text.splitlines()
            if line.startswith(("neura_event_loop_tasks ", "neura_live_peer_connections "))
        }
        sample = Sample(
            time.monotonic(),
            int(fields["VmRSS"].split()[0]) / 1024,
            int(fields["Threads"]),
            int(values["neura_event_loop_tasks"]),
            int(values["neura_live_peer_connections"]),
        )
        self.samples.append(sample)
        return sample

    async def sample_forever(self) -> None:
        while True:
            await self.sample()
            await asyncio.sleep(SAMPLE_EVERY_S)

    async def account(self) -> dict[str, str]:
        email = f"soak-{uuid.uuid4().hex[:8]}@example.com"
        signup = await self.http.post("/v1/auth/signup", json={"email": email, "password": "soak pass 1234"})
        signup.raise_for_status()
        for args in (("set-plan", email, "pro"), ("grant-credits", email, "1000000")):
            await neura_users(self.database_url, *args, "--reason", "bench/soak.py")
        token = {"Authorization": f"Bearer {signup.json()['access_token']}"}
        key = await self.http.post("/v1/api-keys", json={"name": "soak"}, headers=token)
        key.raise_for_status()
        return {"X-API-Key": key.json()["key"]}  # an access token expires during a long soak; a key does not

    async def open(self, headers: dict[str, str]) -> tuple[LivePeer, str, float]:
        response = await self.http.post("/v1/live/sessions", json={}, headers=headers)
        response.raise_for_status()
        session_id = response.json()["id"]
        peer = LivePeer()
        await peer.connect(self.http, session_id, headers, timeout_s=30.0)
        self.sessions_opened += 1
        return peer, session_id, time.monotonic()

    async def close(self, peer: LivePeer, session_id: str, headers: dict[str, str], connected_s: float) -> None:
        ended_s = time.monotonic()
        start_s = connected_s + 1.0
        if ended_s > start_s:
            self.frames_received += sum(1 for f in peer.video if start_s <= f.arrival_s < ended_s)
            self.frames_expected += (ended_s - start_s) * TARGET_FPS
        state = await self.http.get(f"/v1/live/sessions/{session_id}", headers=headers)
        media = state.json().get("media") if state.status_code == 200 else None
        if media is not None:  # None: the session has already ended (the server closed it)
            self.server_frames_sent += int(media["video_frames_sent"])
            self.server_frames_skipped += int(media["video_frames_skipped"])
        await peer.close()
        await self.http.delete(f"/v1/live/sessions/{session_id}", headers=headers)

    async def turn(self, peer: LivePeer, index: int) -> None:
        """One message, answered (or interrupted); SessionEnded when the server closed the session."""
        mark = len(peer.messages)
        peer.say(f"Tell me about the deep ocean ({index}).")
        self.turns += 1
        if self.rng.random() < 1 / 3:
            await asyncio.sleep(self.rng.uniform(1.0, 3.0))
            peer.send({"type": "interrupt"})
            self.interrupts += 1

        def ended() -> dict[str, Any] | None:
            for _, message in peer.messages[mark:]:
                if message["type"] == "closed" or (message["type"] == "state" and message["state"] == "listening"):
                    return message
            if peer.pc.connectionState in ("failed", "closed"):
                return {"type": "closed", "reason": f"peer connection {peer.pc.connectionState}"}
            return None

        try:
            await peer.wait_until(lambda: ended() is not None, 60.0)
        except TimeoutError:
            raise SessionEnded("no answer within 60 s") from None
        done = ended()
        if done is not None and done["type"] == "closed":
            raise SessionEnded(str(done.get("reason", "")))

    async def slot(self, headers: dict[str, str], until_s: float) -> tuple[LivePeer, str, float]:
        """Sessions one after the other until ``until_s``; returns the one still open."""
        while True:
            peer, session_id, connected_s = await self.open(headers)
            close_at = min(until_s, time.monotonic() + self.rng.uniform(40.0, 90.0))
            alive = await self.converse(peer, close_at)
            if alive and time.monotonic() >= until_s:
                return peer, session_id, connected_s
            await self.close(peer, session_id, headers, connected_s)

    async def converse(self, peer: LivePeer, close_at: float) -> bool:
        """A message every 15-25 s until ``close_at``; False when the server closed the session."""
        index = 0
        await asyncio.sleep(min(self.rng.uniform(0.0, 5.0), max(0.0, close_at - time.monotonic())))
        while time.monotonic() < close_at:
            index += 1
            started = time.monotonic()
            try:
                await self.turn(peer, index)
            except SessionEnded as ended:
                self.sessions_dropped.append(str(ended))
                return False
            await asyncio.sleep(max(0.0, min(close_at, started + self.rng.uniform(15.0, 25.0)) - time.monotonic()))
        return True


@dataclass(frozen=True)
class AVOffset:
    """One answer's A/V offset in ms, mouth minus sound (positive: the mouth opens after the sound
    starts), both as the server sent them (RTP times), two ways:

    * ``precise_ms``: when the mouth gap crossed ``MOUTH_OPEN`` (linear between the last frame below it
      and the first above, 40 ms apart, each at the middle of its time on screen: a frame shows the mouth
      over that time since 2026-12-07) minus the first speech sample (the first 2.5 ms window of the
      decoded audio above ``SILENCE_RMS``: the server's silence is digital zero);
    * ``frames_ms``: the first open-mouth frame minus the first speech packet (20 ms), the measure of
      earlier runs, which only resolves whole frames (its usual +40 ms is one frame)."""

    precise_ms: float
    frames_ms: float


ONSET_WINDOW = 120  # 2.5 ms at 48 kHz


def _speech_start_s(peer: LivePeer) -> float | None:
    """When the first speech sample of the recorded audio was sent, to the sample."""
    for samples, pts in zip(peer.recorded_audio, peer.recorded_audio_pts, strict=True):
        windows = len(samples) // ONSET_WINDOW
        energy = np.sqrt(np.mean(samples[: windows * ONSET_WINDOW].reshape(windows, ONSET_WINDOW) ** 2, axis=1))
        loud = np.flatnonzero(energy > SILENCE_RMS)
        if len(loud):
            return peer.audio_sent_s(pts) + int(loud[0]) * ONSET_WINDOW / AUDIO_RATE_HZ
    return None


def _mouth_opens_s(peer: LivePeer, measures: list[FaceMeasure]) -> float | None:
    """When the mouth gap crossed ``MOUTH_OPEN``, between frames. A frame shows the mouth over the time
    it is on screen (docs/visemes.md, "Exposure"), so each stands for the middle of that time."""

    def middle_s(pts: int) -> float:
        return peer.sent_s(pts) + 0.5 / FPS

    for before, after in zip([None, *measures], measures, strict=False):
        if after.mouth <= MOUTH_OPEN:
            continue
        if before is None or after.pts - before.pts != VIDEO_CLOCK_HZ // FPS:  # no frame just before it
            return middle_s(after.pts)
        share = (MOUTH_OPEN - before.mouth) / (after.mouth - before.mouth)
        return middle_s(before.pts) + share / FPS
    return None


async def av_offset_ms(peer: LivePeer) -> AVOffset | None:
    """One answer's A/V offset (:class:`AVOffset`); None when the session no longer answers (the server
    dropped it) or no open mouth was decoded (a starved client)."""
    if peer.pc.connectionState != "connected":
        return None
    peer.record_video = peer.record_audio = True
    peer.recorded_audio.clear()
    peer.recorded_audio_pts.clear()
    sent_s = peer.say("One more thing about the ocean, please.")
    try:
        await peer.wait_until(lambda: peer.speech_onset(sent_s) is not None, 30.0)
    except TimeoutError:
        return None
    onset = peer.speech_onset_frame(sent_s)
    await asyncio.sleep(1.5)
    peer.record_video = peer.record_audio = False
    frames = [f for f in peer.video if f.image is not None and f.arrival_s > sent_s]
    measures = await asyncio.to_thread(measure_faces, frames)
    opened = next((m for m in measures if m.mouth > MOUTH_OPEN), None)
    for frame in peer.video:
        frame.image = None
    mouth_s, sound_s = _mouth_opens_s(peer, measures), _speech_start_s(peer)
    peer.recorded_audio.clear()
    peer.recorded_audio_pts.clear()
    if opened is None or onset is None or mouth_s is None or sound_s is None:
        return None
    frames_ms = (peer.sent_s(opened.pts) - peer.audio_sent_s(onset.pts)) * 1000
    return AVOffset(precise_ms=(mouth_s - sound_s) * 1000, frames_ms=frames_ms)


async def neura_users(database_url: str, *args: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "DATABASE_URL": database_url, "ENV": "test"}
    command = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "neura.cli", "users", *args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    _, err = await command.communicate()
    if command.returncode != 0:
        raise RuntimeError(f"neura users {' '.join(args)} failed: {err.decode().strip()}")


def half_closed_sockets(pid: int) -> int:
    """TCP sockets of process ``pid`` in CLOSE_WAIT: the other side closed, this one never did."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            columns = line.split()
            count += columns[3] == "08" and columns[9] in inodes  # 08: CLOSE_WAIT
    return count


def median_rss(samples: list[Sample]) -> float:
    return statistics.median(s.rss_mib for s in samples)


async def run(args: argparse.Namespace, base_url: str, gateway_pid: int) -> dict[str, Any]:
    use_host_addresses(["127.0.0.1"])
    rng = random.Random(args.seed)
    async with httpx.AsyncClient(base_url=base_url, timeout=60.0) as http:
        soak = Soak(http, args.database_url, gateway_pid, rng)
        owners = [await soak.account() for _ in range(args.sessions)]
        print(f"warm-up: {args.sessions} sessions, one answer each", flush=True)
        warm = [await soak.open(headers) for headers in owners]
        for outcome in await asyncio.gather(*(soak.turn(peer, 0) for peer, _, _ in warm), return_exceptions=True):
            if isinstance(outcome, SessionEnded):
                soak.sessions_dropped.append(str(outcome))
            elif isinstance(outcome, BaseException):
                raise outcome
        for (peer, session_id, connected_s), headers in zip(warm, owners, strict=True):
            await soak.close(peer, session_id, headers, connected_s)
        await asyncio.sleep(5.0)
        idle = await soak.sample()
        print(f"idle baseline: {idle}", flush=True)

        duration_s = args.minutes * 60
        began = time.monotonic()
        warm_until = began + max(30.0, duration_s / 5)
        cpu_began = cpu_seconds(gateway_pid), time.process_time()
        sampler = asyncio.create_task(soak.sample_forever())
        slots = [asyncio.create_task(soak.slot(headers, began + duration_s)) for headers in owners]
        open_sessions = await asyncio.gather(*slots)
        soaked_s = time.monotonic() - began
        gateway_cpu = (cpu_seconds(gateway_pid) - cpu_began[0]) / soaked_s
        client_cpu = (time.process_time() - cpu_began[1]) / soaked_s
        warm_samples = [s for s in soak.samples if warm_until - 15.0 <= s.at_s <= warm_until] or soak.samples[:3]
        warm_rss = median_rss(warm_samples)
        end_rss = median_rss(soak.samples[-3:])
        print(f"soak: {soak.turns} turns, {soak.interrupts} interrupted, {soak.sessions_opened} sessions", flush=True)

        measured = [await av_offset_ms(peer) for peer, _, _ in open_sessions]
        offsets = [offset for offset in measured if offset is not None]
        for (peer, session_id, connected_s), headers in zip(open_sessions, owners, strict=True):
            await soak.close(peer, session_id, headers, connected_s)
        sampler.cancel()
        await asyncio.sleep(5.0)
        closed = await soak.sample()
        half_closed = half_closed_sockets(gateway_pid)
        print(f"after close: {closed}, {half_closed} half-closed sockets", flush=True)
    load = os.getloadavg()
    return {
        "rss_growth_pct": round(100 * (end_rss / warm_rss - 1), 1),
        "rss_after_close_pct": round(100 * (closed.rss_mib / warm_rss - 1), 1),
        "av_offset_ms_max": round(max((o.precise_ms for o in offsets), key=abs), 1) if offsets else None,
        "av_offset_frames_ms_max": round(max((o.frames_ms for o in offsets), key=abs), 1) if offsets else None,
        "av_offsets_ms": [round(o.precise_ms, 1) for o in offsets],
        "av_offsets_measured": len(offsets),
        "leaked_tasks": max(0, closed.tasks - idle.tasks),
        "leaked_threads": max(0, closed.threads - idle.threads),
        "leaked_peers": closed.peers,
        "half_closed_sockets": half_closed,
        "frame_drop_pct": round(max(0.0, 100 * (1 - soak.frames_received / soak.frames_expected)), 2),
        "server_frame_skip_pct": round(
            100 * soak.server_frames_skipped / max(1, soak.server_frames_sent + soak.server_frames_skipped), 2
        ),
        "cpu_cores_used": {"gateway": round(gateway_cpu, 2), "client": round(client_cpu, 2)},
        "rss_mib": {
            "idle": round(idle.rss_mib),
            "warm": round(warm_rss),
            "end": round(end_rss),
            "after_close": round(closed.rss_mib),
            "peak": round(max(s.rss_mib for s in soak.samples)),
        },
        "sessions_dropped": len(soak.sessions_dropped),
        "dropped_because": sorted(set(soak.sessions_dropped)),
        "turns": soak.turns,
        "interrupts": soak.interrupts,
        "sessions_opened": soak.sessions_opened,
        "minutes": args.minutes,
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus, load {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--sessions", type=int, default=3, help="sessions open at once")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="neura-bench-soak-") as tmp, own_services(Path(tmp)) as services:
        folder = Path(tmp)
        args.database_url = services.database_url
        extra_env = {
            "METRICS_TOKEN": METRICS_TOKEN,
            "LIVE_SESSIONS_PER_MINUTE": "100000",
            # the product's dead-peer timeout, not the latency bench's patient one: a soak measures what users get
            "LIVE_PEER_TIMEOUT_S": str(Settings.model_fields["live_peer_timeout_s"].default),
            "LIVE_MAX_SESSIONS": str(args.sessions + 2),
        }
        with serve_gateway(folder, services.database_url, services.redis_url, [REPLY], extra_env) as gateway:
            figures = asyncio.run(run(args, gateway.base_url, gateway.pid))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
