"""A real WebRTC client for live sessions (aiortc), as a browser would be, that decodes what it gets.

    async with LivePeer() as peer:
        await peer.connect(http, session_id)          # SDP offer/answer over the gateway's HTTP API
        peer.say("Hello")                             # on the data channel
        await peer.wait_for(lambda m: m["type"] == "state" and m["state"] == "listening")

Every decoded audio frame is kept as (arrival time, RMS) and, while ``record_audio`` is set, its
samples (mono, 48 kHz); every video frame as (arrival time, pts) and, while ``record_video`` is set, its
RGB image. Arrival times are ``time.monotonic()`` when aiortc hands
the decoded frame over.

aiortc's receiver holds frames back before decoding: a video frame until the next frame's first packet
arrives (one frame, 40 ms at 25 fps) and an audio packet until four more have arrived (80 ms). The
constants below let a test compare the two tracks as they were *sent*. :meth:`LivePeer.sent_s` and
:meth:`LivePeer.audio_sent_s` go further: when the server sent a frame, from its RTP timestamp, so a
test can judge what the server did at a moment even when this client (on a loaded machine) decodes late.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from tests.realtime import check_message

VIDEO_CLOCK_HZ = 90_000  # RTP video timestamps
AUDIO_CLOCK_HZ = 48_000  # RTP Opus timestamps
AIORTC_VIDEO_HOLD_S = 0.040  # a frame is released when the next one starts arriving
AIORTC_AUDIO_HOLD_S = 0.080  # an audio packet is released when four more have arrived
SILENCE_RMS = 0.003  # about -50 dBFS: the server's silence is digital zero, speech is far above


@dataclass
class AudioFrameInfo:
    arrival_s: float
    rms: float
    pts: int = 0  # RTP timestamp (48 kHz)


@dataclass
class VideoFrameInfo:
    arrival_s: float
    pts: int
    image: npt.NDArray[np.uint8] | None = None


class LivePeer:
    def __init__(self, microphone: MediaStreamTrack | None = None) -> None:
        """``microphone``: sent as the client's audio track (a ``sendrecv`` transceiver), as a browser
        sends its microphone; without it the session is text-only (``recvonly``)."""
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.channel = self.pc.createDataChannel("neura")
        self.microphone = microphone
        if microphone is not None:
            self.pc.addTransceiver(microphone, direction="sendrecv")
        else:
            self.pc.addTransceiver("audio", direction="recvonly")
        self.pc.addTransceiver("video", direction="recvonly")
        self.audio: list[AudioFrameInfo] = []
        self.video: list[VideoFrameInfo] = []
        self.messages: list[tuple[float, dict[str, Any]]] = []
        self.record_video = False
        self.record_audio = False
        self.recorded_audio: list[npt.NDArray[np.float32]] = []
        self.recorded_audio_pts: list[int] = []  # each recorded frame's RTP timestamp (48 kHz)
        self.opened = asyncio.Event()
        self._changed = asyncio.Event()
        self._readers: list[asyncio.Task[None]] = []
        self.channel.on("open", self.opened.set)
        self.channel.on("message", self._on_message)
        self.pc.on("track", self._on_track)

    async def __aenter__(self) -> LivePeer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(
        self, http: httpx.AsyncClient, session_id: str, headers: dict[str, str], *, timeout_s: float = 15.0
    ) -> None:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        offer = {"sdp": self.pc.localDescription.sdp, "type": self.pc.localDescription.type}
        response = await http.post(f"/v1/live/sessions/{session_id}/offer", json=offer, headers=headers)
        assert response.status_code == 200, response.text
        answer = response.json()
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type=answer["type"]))
        await asyncio.wait_for(self.opened.wait(), timeout_s)
        await self.wait_until(lambda: len(self.video) > 0 and len(self.audio) > 0, timeout_s)

    async def connect_whep(
        self,
        http: httpx.AsyncClient,
        headers: dict[str, str],
        *,
        query: str = "",
        trickle: bool = True,
        timeout_s: float = 15.0,
    ) -> WhepSession:
        """Connect as a WHEP player that trickles: POST the offer *without* its candidates, then (with
        ``trickle``) PATCH them to the session's Location as an SDP fragment. Returns what WHEP answered."""
        await self.pc.setLocalDescription(await self.pc.createOffer())
        offer, candidates = split_candidates(self.pc.localDescription.sdp)
        started_s = time.monotonic()
        response = await http.post(
            f"/v1/live/whep{query}", content=offer, headers={**headers, "Content-Type": "application/sdp"}
        )
        answered_s = time.monotonic()
        assert response.status_code == 201, response.text
        session = WhepSession(
            location=response.headers["location"],
            etag=response.headers["etag"],
            answer=response.text,
            answer_ms=(answered_s - started_s) * 1000,
        )
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=response.text, type="answer"))
        if trickle:
            fragment = sdp_fragment(self.pc.localDescription.sdp, candidates)
            patched = await http.patch(
                session.location,
                content=fragment,
                headers={**headers, "Content-Type": "application/trickle-ice-sdpfrag", "If-Match": session.etag},
            )
            assert patched.status_code == 204, patched.text
        await self.wait_until(lambda: len(self.video) > 0 and len(self.audio) > 0, timeout_s)
        session.first_frame_ms = (time.monotonic() - started_s) * 1000
        return session

    async def close(self) -> None:
        await self.pc.close()
        for reader in self._readers:
            reader.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)

    # --- data channel
    def send(self, message: dict[str, Any]) -> float:
        """Send ``message``; returns the monotonic time it was handed to the data channel."""
        sent_s = time.monotonic()
        self.channel.send(json.dumps(message))
        return sent_s

    def say(self, text: str) -> float:
        return self.send({"type": "message", "text": text})

    def _on_message(self, raw: str | bytes) -> None:
        self.messages.append((time.monotonic(), check_message("LiveServerMessage", json.loads(raw))))
        self._poke()

    def messages_of(self, kind: str) -> list[dict[str, Any]]:
        return [m for _, m in self.messages if m.get("type") == kind]

    async def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout_s: float = 15.0, *, after: int = 0
    ) -> dict[str, Any]:
        """The first message (from index ``after``) that matches ``predicate``."""
        found: list[dict[str, Any]] = []

        def match() -> bool:
            found[:] = [m for _, m in self.messages[after:] if predicate(m)][:1]
            return bool(found)

        await self.wait_until(match, timeout_s)
        return found[0]

    async def wait_until(self, condition: Callable[[], bool], timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the live session did not do what was expected in time")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.1))

    def _poke(self) -> None:
        self._changed.set()

    # --- media
    def _on_track(self, track: MediaStreamTrack) -> None:
        reader = self._read_audio(track) if track.kind == "audio" else self._read_video(track)
        self._readers.append(asyncio.get_running_loop().create_task(reader))

    async def _read_audio(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                samples = frame.to_ndarray().astype(np.float32) / 32768.0  # type: ignore[union-attr]
                rms = float(np.sqrt(np.mean(samples * samples)))
                if self.record_audio:  # packed s16: channels interleaved
                    channels = len(frame.layout.channels)  # type: ignore[union-attr]
                    self.recorded_audio.append(samples.reshape(-1, channels).mean(axis=1))
                    self.recorded_audio_pts.append(int(frame.pts or 0))
                self.audio.append(AudioFrameInfo(time.monotonic(), rms, int(frame.pts or 0)))
                self._poke()
        except MediaStreamError:
            return

    async def _read_video(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                arrival_s = time.monotonic()
                image = frame.to_ndarray(format="rgb24") if self.record_video else None  # type: ignore[union-attr]
                self.video.append(VideoFrameInfo(arrival_s, int(frame.pts or 0), image))
                self._poke()
        except MediaStreamError:
            return

    async def wait_for_voice(self, timeout_s: float = 10.0, level: float = 0.01) -> None:
        """Until the latest decoded audio frame is voiced (so an interrupt lands in speech, not a pause)."""
        await self.wait_until(lambda: bool(self.audio) and self.audio[-1].rms > level, timeout_s)

    # --- measurements
    def speech_onset(self, after_s: float, level: float = SILENCE_RMS) -> float | None:
        """Arrival time of the first audio frame above ``level`` after ``after_s``."""
        for frame in self.audio:
            if frame.arrival_s > after_s and frame.rms > level:
                return frame.arrival_s
        return None

    def silence_onset(self, after_s: float, level: float = SILENCE_RMS) -> float | None:
        """Arrival time of the first audio frame after ``after_s`` from which on all stay at or below ``level``
        for at least 200 ms."""
        frames = [f for f in self.audio if f.arrival_s > after_s]
        for i, frame in enumerate(frames):
            window = [f for f in frames[i:] if f.arrival_s < frame.arrival_s + 0.2]
            if (
                frame.rms <= level
                and all(f.rms <= level for f in window)
                and frames[-1].arrival_s > frame.arrival_s + 0.2
            ):
                return frame.arrival_s
        return None

    def sent_s(self, pts: int) -> float:
        """When the server sent the video frame with RTP timestamp ``pts``, on this client's monotonic
        clock: its media time, plus the smallest arrival-minus-media-time offset seen (the least-delayed
        frame; later ones waited in queues), less aiortc's constant receive hold. Unlike an arrival
        time, this does not move when a loaded client decodes late."""
        return _sent_s([(f.arrival_s, f.pts) for f in self.video], pts, VIDEO_CLOCK_HZ) - AIORTC_VIDEO_HOLD_S

    def audio_sent_s(self, pts: int) -> float:
        """The same for an audio frame (48 kHz timestamps)."""
        return _sent_s([(f.arrival_s, f.pts) for f in self.audio], pts, AUDIO_CLOCK_HZ) - AIORTC_AUDIO_HOLD_S

    def speech_onset_frame(self, after_s: float, level: float = SILENCE_RMS) -> AudioFrameInfo | None:
        """The first audio frame above ``level`` that arrived after ``after_s``."""
        return next((f for f in self.audio if f.arrival_s > after_s and f.rms > level), None)

    def video_fps(self, since_s: float, until_s: float) -> float:
        count = sum(1 for f in self.video if since_s <= f.arrival_s < until_s)
        return count / (until_s - since_s)


@dataclass
class WhepSession:
    location: str  # /v1/live/sessions/{id}
    etag: str
    answer: str
    answer_ms: float  # the POST's round trip
    first_frame_ms: float = 0.0  # from the POST to the first decoded video and audio frames

    @property
    def session_id(self) -> str:
        return self.location.rsplit("/", 1)[-1]


def split_candidates(sdp: str) -> tuple[str, list[str]]:
    """An SDP without its candidate lines (a trickle offer), and those lines."""
    lines = sdp.splitlines()
    kept = [line for line in lines if not line.startswith(("a=candidate:", "a=end-of-candidates"))]
    return "\r\n".join(kept) + "\r\n", [line for line in lines if line.startswith("a=candidate:")]


def sdp_fragment(sdp: str, candidates: list[str]) -> str:
    """An RFC 8840 fragment with ``candidates`` for the first m-line of ``sdp``, then end-of-candidates."""
    lines = sdp.splitlines()
    ufrag = next(line for line in lines if line.startswith("a=ice-ufrag:"))
    pwd = next(line for line in lines if line.startswith("a=ice-pwd:"))
    m_line = next(line for line in lines if line.startswith("m="))
    mid = next(line for line in lines if line.startswith("a=mid:"))
    first = lines.index(m_line)
    next_m = next((i for i, line in enumerate(lines) if i > first and line.startswith("m=")), len(lines))
    own = [c for c in candidates if c in lines[first:next_m]] or candidates
    return "\r\n".join([ufrag, pwd, m_line, mid, *own, "a=end-of-candidates"]) + "\r\n"


def _sent_s(frames: list[tuple[float, int]], pts: int, clock_hz: int) -> float:
    if not frames:
        raise ValueError("no frame received yet")
    first = frames[0][1]

    def media_s(value: int) -> float:
        return ((value - first) % 2**32) / clock_hz

    offset = min(arrival_s - media_s(frame_pts) for arrival_s, frame_pts in frames)
    return media_s(pts) + offset
