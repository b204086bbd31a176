"""The session's two aiortc tracks: 48 kHz audio in 20 ms frames and 25 fps video, one clock.

Each ``recv`` waits for its frame's due time on the session's :class:`MediaClock` and then reads the
:class:`SpeechTimeline` at that frame's position: audio samples ``k * 960 ..``, the mouth pose of frame
``n`` (time ``n / 25``). A frame is rendered in an executor just ahead of its due time (the pose is
taken as late as possible, so new speech starts on the nearest frame). A track that falls behind by
more than a few frames skips to the present instead of sending a backlog.
"""

from __future__ import annotations

import asyncio
import fractions
import math
from concurrent.futures import Executor
from typing import Protocol

import av
import numpy as np
import numpy.typing as npt
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from neura.live.clock import MediaClock
from neura.live.timeline import AUDIO_RATE_HZ, FPS, SpeechTimeline

AUDIO_FRAME_SAMPLES = 960  # 20 ms at 48 kHz
AUDIO_FRAME_S = AUDIO_FRAME_SAMPLES / AUDIO_RATE_HZ
AUDIO_TIME_BASE = fractions.Fraction(1, AUDIO_RATE_HZ)
VIDEO_CLOCK_HZ = 90_000
VIDEO_TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK_HZ)
RENDER_LEAD_S = 0.02  # take the pose and start rendering this long before a frame is due
MAX_VIDEO_LATE_FRAMES = 2  # further behind than this: skip to the present
MAX_AUDIO_LATE_S = 0.1


class FrameSource(Protocol):
    def render(self, frame_index: int, mouth: npt.NDArray[np.float32]) -> av.VideoFrame:
        """Frame ``frame_index`` with this mouth pose; blocking and thread-safe (runs in an executor)."""
        ...


class AvatarAudioTrack(MediaStreamTrack):
    kind = "audio"

    def __init__(self, clock: MediaClock, timeline: SpeechTimeline) -> None:
        super().__init__()
        self.clock = clock
        self.timeline = timeline
        self._next = 0
        self.frames_sent = 0
        self.frames_skipped = 0

    async def recv(self) -> av.AudioFrame:
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
        pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(pcm[None, :], format="s16", layout="mono")
        frame.sample_rate = AUDIO_RATE_HZ
        frame.pts = index * AUDIO_FRAME_SAMPLES
        frame.time_base = AUDIO_TIME_BASE
        self._next = index + 1
        self.frames_sent += 1
        return frame


class AvatarVideoTrack(MediaStreamTrack):
    kind = "video"

    def __init__(self, clock: MediaClock, timeline: SpeechTimeline, source: FrameSource, executor: Executor) -> None:
        super().__init__()
        self.clock = clock
        self.timeline = timeline
        self.source = source
        self.executor = executor
        self._next = 0
        self.frames_sent = 0
        self.frames_skipped = 0

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        self.clock.start()
        index = self._next
        late_frames = math.floor(self.clock.lateness_s(index / FPS) * FPS)
        if late_frames > MAX_VIDEO_LATE_FRAMES:
            self.frames_skipped += late_frames
            index += late_frames
        await self.clock.wait_until(index / FPS - RENDER_LEAD_S)
        mouth = self.timeline.mouth_for_frame(index)
        loop = asyncio.get_running_loop()
        frame = await loop.run_in_executor(self.executor, self.source.render, index, mouth)
        await self.clock.wait_until(index / FPS)
        frame.pts = index * (VIDEO_CLOCK_HZ // FPS)
        frame.time_base = VIDEO_TIME_BASE
        self.timeline.frame_sent(index)
        self._next = index + 1
        self.frames_sent += 1
        return frame
