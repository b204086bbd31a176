"""A client for live sessions: ask the avatar something, watch the figures, keep what it answered.

    neura live --say "What day is it?" -o reply.mp4
    neura live --wav question.wav                     # spoken: sent as the microphone

It does what a browser does: opens a session on a NEURA gateway (with an API key), connects over
WebRTC (aiortc), sends the message on the data channel (or, with a recording, sends it as its microphone track in real
time, as a browser sends the user's voice), receives the avatar's audio and video until it
has finished answering, and ends the session. With an output path it writes what it received, from
the message on, to an MP4 (the decoded frames re-encoded: H.264 + AAC), so a server without a browser
can still be tried, and a deployment smoke-tested.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
from aiortc import RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from neura.encode.background import BackgroundMp4Writer
from neura.errors import NeuraError
from neura.live.microphone import mono_float
from neura.live.peer import new_peer_connection, use_host_addresses
from neura.live.spoken_track import SpokenAudioTrack

FPS = 25
AUDIO_RATE_HZ = 48_000
SAMPLES_PER_FRAME = AUDIO_RATE_HZ // FPS
CONNECT_TIMEOUT_S = 20.0


class LiveClientError(NeuraError):
    """The gateway refused, or the session did not do what was asked in time."""

    exit_code = 69  # EX_UNAVAILABLE

    @classmethod
    def from_response(cls, response: httpx.Response, doing: str) -> LiveClientError:
        try:
            error = response.json()["error"]
            message, hint = str(error["message"]), error.get("hint")
        except (ValueError, KeyError, TypeError):
            message, hint = response.text[:200] or response.reason_phrase, None
        exc = cls(f"{doing}: HTTP {response.status_code}: {message}", hint=hint)
        if response.status_code in (401, 403):
            exc.exit_code = 77  # EX_NOPERM
        elif response.status_code in (429, 503):
            exc.exit_code = 75  # EX_TEMPFAIL
        elif 400 <= response.status_code < 500:
            exc.exit_code = 65  # EX_DATAERR
        return exc


@dataclass
class LiveReply:
    """What a turn produced."""

    session_id: str
    transcript: str = ""
    heard: str = ""  # what the avatar understood of a spoken question
    latency_ms: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    video_frames: int = 0
    audio_s: float = 0.0
    output: Path | None = None


class _Recorder:
    """Decoded frames into an MP4, audio written up to each video frame's time (A/V stay together)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: BackgroundMp4Writer | None = None
        self._audio: list[npt.NDArray[np.float32]] = []
        self._audio_written = 0
        self.frames = 0
        self.active = False

    def video(self, rgb: npt.NDArray[np.uint8]) -> None:
        if not self.active:
            return
        if self._writer is None:
            height, width = rgb.shape[:2]
            self._writer = BackgroundMp4Writer(self.path, width=width, height=height, fps=FPS)
        self._writer.write_frame(rgb)
        self.frames += 1
        self._write_audio(self.frames * SAMPLES_PER_FRAME)

    def audio(self, mono: npt.NDArray[np.float32]) -> None:
        if self.active:
            self._audio.append(mono)

    def _write_audio(self, until: int) -> None:
        assert self._writer is not None
        pending = np.concatenate(self._audio) if self._audio else np.zeros(0, np.float32)
        take = max(0, min(len(pending), until - self._audio_written))
        if take:
            self._writer.write_audio(pending[:take], AUDIO_RATE_HZ)
            self._audio_written += take
        self._audio = [pending[take:]] if take < len(pending) else []

    def close(self) -> float:
        """Finish the file (audio padded or cut to the video's length); returns the audio's seconds."""
        if self._writer is None:
            return 0.0
        end = self.frames * SAMPLES_PER_FRAME
        self._write_audio(end)
        if self._audio_written < end:  # the voice arrived short of the last frames: silence
            self._writer.write_audio(np.zeros(end - self._audio_written, np.float32), AUDIO_RATE_HZ)
            self._audio_written = end
        self._writer.close()
        return self._audio_written / AUDIO_RATE_HZ

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.abort()


MAX_QUESTION_S = 60.0
UNHEARD_AFTER_S = 3.0  # a recording played without any speech heard: the gateway will not answer it


def read_question(path: Path) -> npt.NDArray[np.float32]:
    """A spoken question from a recording, as the 48 kHz mono the microphone track sends.
    :class:`~neura.encode.audio.AudioDecodeError` (exit 65) for a file that is not audio, and
    PayloadTooLargeError past a minute (a question, not a lecture)."""
    from neura.encode.audio import decode_audio_bytes
    from neura.stt.recordings import read_file

    return decode_audio_bytes(read_file(path), sample_rate_hz=AUDIO_RATE_HZ, max_duration_s=MAX_QUESTION_S)


async def ask(
    base_url: str,
    api_key: str,
    text: str | None,
    *,
    speech: npt.NDArray[np.float32] | None = None,
    output: Path | None = None,
    persona: str | None = None,
    voice: str | None = None,
    timeout_s: float = 60.0,
    host_addresses: list[str] | None = None,
    on_message: Callable[[dict[str, Any]], None] = lambda message: None,
) -> LiveReply:
    """Open a session, say ``text`` (or ``speech``: 48 kHz mono audio sent as the microphone), receive the
    answer (into ``output`` when given), end the session."""
    if host_addresses:
        use_host_addresses(host_addresses)
    headers = {"X-API-Key": api_key}
    async with httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=30.0, headers=headers) as http:
        try:
            created = await http.post("/v1/live/sessions", json={"persona": persona, "voice": voice})
        except httpx.HTTPError as exc:
            raise LiveClientError(
                f"cannot reach the NEURA gateway at {base_url}: {exc}",
                hint="start it with `neura serve`, or name the right gateway",
                fields={"url": None},
            ) from exc
        if created.status_code != 201:
            raise LiveClientError.from_response(created, "opening a live session")
        session = created.json()
        reply = LiveReply(session_id=str(session["id"]))
        try:
            await _converse(http, session, text, speech, reply, output, timeout_s, on_message)
        finally:
            with contextlib.suppress(httpx.HTTPError):
                await http.delete(f"/v1/live/sessions/{reply.session_id}")
    return reply


async def _converse(
    http: httpx.AsyncClient,
    session: dict[str, Any],
    text: str | None,
    speech: npt.NDArray[np.float32] | None,
    reply: LiveReply,
    output: Path | None,
    timeout_s: float,
    on_message: Callable[[dict[str, Any]], None],
) -> None:
    pc = new_peer_connection(session.get("ice_servers") or [])
    channel = pc.createDataChannel(session.get("data_channel", "neura"))
    microphone = SpokenAudioTrack() if speech is not None else None
    if microphone is not None:
        pc.addTransceiver(microphone, direction="sendrecv")
    else:
        pc.addTransceiver("audio", direction="recvonly")
    pc.addTransceiver("video", direction="recvonly")
    recorder = _Recorder(output) if output is not None else None
    opened, answered, unheard, speaking = asyncio.Event(), asyncio.Event(), asyncio.Event(), asyncio.Event()
    media_ready = {"audio": asyncio.Event(), "video": asyncio.Event()}
    spoke = False
    readers: list[asyncio.Task[None]] = []

    def on_data(raw: str | bytes) -> None:
        nonlocal spoke
        message = json.loads(raw)
        on_message(message)
        kind = message.get("type")
        if kind == "state" and message.get("state") == "speaking":
            spoke = True
        elif kind == "state" and message.get("state") == "listening" and spoke:
            answered.set()
        elif kind == "transcript" and message.get("role") == "avatar" and message.get("final"):
            reply.transcript = str(message.get("text", ""))
        elif kind == "transcript" and message.get("role") == "user" and message.get("final"):
            reply.heard = str(message.get("text", ""))
        elif kind == "user_speech" and message.get("speaking"):
            speaking.set()
        elif kind == "user_speech" and message.get("ignored") and not reply.heard:
            unheard.set()
            answered.set()
        elif kind == "latency":
            reply.latency_ms = {k: float(v) for k, v in message.items() if k.endswith("_ms") and v is not None}
        elif kind == "error":
            reply.errors.append(f"{message.get('code')}: {message.get('message')}")
        elif kind == "closed":
            reply.errors.append(f"session closed: {message.get('reason')}")
            answered.set()

    async def read(track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                media_ready[track.kind].set()
                if recorder is None:
                    continue
                if track.kind == "video":
                    recorder.video(frame.to_ndarray(format="rgb24"))  # type: ignore[union-attr]
                else:
                    recorder.audio(mono_float(frame))  # type: ignore[arg-type]

    channel.on("open", opened.set)
    channel.on("message", on_data)
    pc.on("track", lambda track: readers.append(asyncio.ensure_future(read(track))))
    try:
        await pc.setLocalDescription(await pc.createOffer())
        offer = {"sdp": pc.localDescription.sdp, "type": pc.localDescription.type}
        answer = await http.post(f"/v1/live/sessions/{reply.session_id}/offer", json=offer)
        if answer.status_code != 200:
            raise LiveClientError.from_response(answer, "connecting the live session")
        await pc.setRemoteDescription(RTCSessionDescription(**answer.json()))
        try:
            await asyncio.wait_for(
                asyncio.gather(opened.wait(), *(event.wait() for event in media_ready.values())), CONNECT_TIMEOUT_S
            )
        except TimeoutError:
            raise LiveClientError(
                f"no WebRTC connection to the session within {CONNECT_TIMEOUT_S:.0f} s",
                hint="the gateway's WEBRTC_HOST_ADDRESSES must be reachable from here (or configure TURN)",
            ) from None
        if recorder is not None:
            recorder.active = True
        sent = time.monotonic()
        if microphone is not None and speech is not None:
            await microphone.play(speech)  # in real time; the avatar answers after the end-of-turn pause
            try:
                await asyncio.wait_for(speaking.wait(), UNHEARD_AFTER_S)
            except TimeoutError:  # not a word in it: nothing will come
                unheard.set()
                answered.set()
        else:
            channel.send(json.dumps({"type": "message", "text": text}))
        try:
            await asyncio.wait_for(answered.wait(), max(1.0, timeout_s - (time.monotonic() - sent)))
        except TimeoutError:
            raise LiveClientError(f"the avatar did not finish answering within {timeout_s:.0f} s") from None
        if unheard.is_set() and not reply.transcript:
            unheard_error = LiveClientError(
                "the avatar heard no question in the recording (silence, noise or a sound too short)",
                hint="record a spoken question; the avatar answers speech that ends with a pause",
            )
            unheard_error.exit_code = 65  # EX_DATAERR
            raise unheard_error
        await asyncio.sleep(0.3)  # the last frames and the closing mouth
    except BaseException:
        if recorder is not None:
            recorder.abort()
        raise
    finally:
        await pc.close()
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
    if recorder is not None:
        reply.audio_s = recorder.close()
        reply.video_frames = recorder.frames
        reply.output = output
