"""The session's two aiortc tracks: 48 kHz audio in 20 ms packets and 25 fps video, one clock.

Both read the :class:`SpeechTimeline` at their frame's position: audio samples ``k * 960 ..`` when
packet ``k`` is due, the mouth pose of frame ``n`` (time ``n / 25``). They hand aiortc encoded packets
(see :mod:`neura.live.encoders`).

Video is made by a producer task, one frame at a time while the avatar is silent (new speech shows from
the next frame) and a batch at a time (the renderer stream's ``batch_frames``) while speech is queued,
just ahead of the clock: at ``n / 25 - lead`` it has the stream render frames ``n ..`` and encodes them,
in one executor job, while aiortc is still sending the frames before. ``lead`` follows the time recent
jobs took, so a loaded machine renders a little earlier instead of sending late. A producer that falls
behind by more than two frames skips to the present *before* rendering (every encoded VP8 frame is
sent, so the decoder never misses a reference). Audio is encoded inline.
"""

from __future__ import annotations

import asyncio
import fractions
import logging
import math
import time
from collections import deque
from concurrent.futures import Executor

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from neura.live.clock import MediaClock
from neura.live.encoders import AudioEncoder, VideoEncoder
from neura.live.timeline import AUDIO_RATE_HZ, FPS, SpeechTimeline
from neura.render.seam import RenderStream

log = logging.getLogger(__name__)

AUDIO_FRAME_SAMPLES = 960  # 20 ms at 48 kHz
AUDIO_FRAME_S = AUDIO_FRAME_SAMPLES / AUDIO_RATE_HZ
VIDEO_CLOCK_HZ = 90_000
VIDEO_TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK_HZ)
MIN_LEAD_S = 0.008  # take the pose at least this long before the frame is due
MAX_LEAD_S = 0.08
LEAD_MARGIN_S = 0.004
MAX_VIDEO_LATE_FRAMES = 2  # further behind than this: skip to the present
MAX_AUDIO_LATE_S = 0.1


class AvatarAudioTrack(MediaStreamTrack):
    kind = "audio"

    def __init__(self, clock: MediaClock, timeline: SpeechTimeline) -> None:
        super().__init__()
        self.clock = clock
        self.timeline = timeline
        self.encoder = AudioEncoder()
        self._next = 0
        self.frames_sent = 0
        self.frames_skipped = 0
        self.levels: deque[tuple[float, float]] = deque(maxlen=150)  # (sent, RMS) of the last 3 s: the echo guard

    async def recv(self) -> av.Packet:
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            self.clock.start()
            index = self._next
            if self.clock.lateness_s(index * AUDIO_FRAME_S) > MAX_AUDIO_LATE_S:
                now_index = math.floor(self.clock.media_s() / AUDIO_FRAME_S)
                self.frames_skipped += now_index - index
                index = now_index
            await self.clock.wait_until(index * AUDIO_FRAME_S)
            samples = self.timeline.read_audio(index * AUDIO_FRAME_SAMPLES, AUDIO_FRAME_SAMPLES)
            self.levels.append((time.monotonic(), float(np.sqrt(np.mean(samples * samples)))))
            pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).astype(np.int16)
            packet = self.encoder.encode(pcm, index * AUDIO_FRAME_SAMPLES)
            self._next = index + 1
            if packet is not None:
                self.frames_sent += 1
                return packet


class AvatarVideoTrack(MediaStreamTrack):
    kind = "video"

    def __init__(self, clock: MediaClock, timeline: SpeechTimeline, stream: RenderStream, executor: Executor) -> None:
        """``stream``: the avatar's frames as I420 (``output="i420"``), at 25 fps."""
        super().__init__()
        if stream.output != "i420" or stream.fps != FPS:
            raise ValueError(f"the video track needs I420 frames at {FPS} fps")
        self.clock = clock
        self.timeline = timeline
        self.stream = stream
        self.executor = executor
        self.encoder = VideoEncoder()
        self.frames_sent = 0
        self.frames_skipped = 0
        self.failed = False  # the producer could not make a frame (the track then ends)
        self.lead_s = MIN_LEAD_S
        self._job_s: deque[float] = deque(maxlen=25)
        self._keyframe = True
        self._ready: asyncio.Queue[tuple[int, av.Packet | None]] = asyncio.Queue(maxsize=stream.batch_frames)
        self._producer: asyncio.Task[None] | None = None

    def request_keyframe(self) -> None:
        """The receiver lost a frame or just joined (PLI/FIR): the next frame is a keyframe."""
        self._keyframe = True

    async def recv(self) -> av.Packet:
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            if self._producer is None:
                self.clock.start()
                self._producer = asyncio.get_running_loop().create_task(self._produce(), name="live-video")
            index, packet = await self._ready.get()
            if index < 0:  # the producer failed (logged there): end the track
                self.stop()
                raise MediaStreamError
            await self.clock.wait_until(index / FPS)
            self.timeline.frame_sent(index)
            if packet is not None:
                self.frames_sent += 1
                return packet

    def stop(self) -> None:
        super().stop()
        if self._producer is not None:
            self._producer.cancel()

    async def aclose(self) -> None:
        """Stop, wait for the producer to finish (no task left behind) and release the stream."""
        self.stop()
        if self._producer is not None:
            await asyncio.gather(self._producer, return_exceptions=True)
        self.stream.close()

    async def _produce(self) -> None:
        try:
            await self._produce_frames()
        except Exception:  # a frame that cannot be made ends the video; the session reports the end
            log.exception("live video: cannot make a frame; ending the track")
            self.failed = True
            await self._ready.put((-1, None))

    async def _produce_frames(self) -> None:
        loop = asyncio.get_running_loop()
        index = self.stream.next_pts
        while True:
            late_frames = math.floor(self.clock.lateness_s(index / FPS) * FPS)
            if late_frames > MAX_VIDEO_LATE_FRAMES:
                self.frames_skipped += late_frames
                index += late_frames
                self.stream.skip_to(index)
            await self.clock.wait_until(index / FPS - self.lead_s)
            keyframe, self._keyframe = self._keyframe, False
            started = time.monotonic()
            # One frame a job while nothing is to be said (new speech shows from the next frame not yet
            # rendered), a batch while speech is queued (what comes next is placed after it anyway). The
            # very first frame is late by its job: one frame too.
            n_frames = None if index > 0 and self.timeline.busy else 1
            packets = await loop.run_in_executor(self.executor, self._render_encode, keyframe, n_frames)
            self._adapt_lead(time.monotonic() - started)
            for packet in packets:
                await self._ready.put(packet)
            index = self.stream.next_pts

    def _render_encode(self, keyframe: bool, n_frames: int | None) -> list[tuple[int, av.Packet | None]]:
        """The stream's next batch, encoded (the first frame as a keyframe when one is wanted)."""
        packets = []
        for i, rendered in enumerate(self.stream.render_next(n_frames)):
            frame = av.VideoFrame.from_ndarray(rendered.image, format="yuv420p")
            frame.pts = rendered.pts * (VIDEO_CLOCK_HZ // FPS)
            frame.time_base = VIDEO_TIME_BASE
            packets.append((rendered.pts, self.encoder.encode(frame, keyframe=keyframe and i == 0)))
        return packets

    def _adapt_lead(self, job_s: float) -> None:
        """Lead = the 90th percentile of the last second's jobs plus a margin: a rare slow job makes
        one frame a few milliseconds late, while a steadily slower machine moves every pose earlier."""
        self._job_s.append(job_s)
        recent = sorted(self._job_s)
        typical = recent[min(len(recent) - 1, int(0.9 * len(recent)))]
        self.lead_s = min(MAX_LEAD_S, max(MIN_LEAD_S, typical + LEAD_MARGIN_S))
