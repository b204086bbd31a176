"""A microphone made of recordings: what ``neura live --wav``, the tests and ``bench/live_voice.py`` send
as the client's audio track, in real time, 20 ms at a time (48 kHz mono; aiortc encodes it as Opus).

Between recordings it sends silence, as a microphone in a quiet room does. :meth:`SpokenAudioTrack.play`
queues a recording and returns a future with the moment (``time.monotonic()``) its last sample was
sent: the end of the user's speech, from which a voice turn's latency is measured.
"""

from __future__ import annotations

import asyncio
import fractions
import time
from collections import deque

import av
import numpy as np
import numpy.typing as npt
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

RATE_HZ = 48_000
PACKET_SAMPLES = 960  # 20 ms
TIME_BASE = fractions.Fraction(1, RATE_HZ)


class SpokenAudioTrack(MediaStreamTrack):
    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._clips: deque[tuple[npt.NDArray[np.float32], asyncio.Future[float]]] = deque()
        self._offset = 0  # samples of the first clip already sent
        self._pts = 0
        self._start: float | None = None

    def play(self, samples_48k: npt.NDArray[np.float32]) -> asyncio.Future[float]:
        """Queue ``samples_48k`` (mono float32, -1..1); the future resolves when its last sample was sent."""
        done: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._clips.append((np.asarray(samples_48k, dtype=np.float32).reshape(-1), done))
        return done

    @property
    def playing(self) -> bool:
        return bool(self._clips)

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        delay = self._start + self._pts / RATE_HZ - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        packet = np.zeros(PACKET_SAMPLES, np.float32)
        filled = 0
        while filled < PACKET_SAMPLES and self._clips:
            clip, done = self._clips[0]
            take = min(PACKET_SAMPLES - filled, clip.size - self._offset)
            packet[filled : filled + take] = clip[self._offset : self._offset + take]
            filled += take
            self._offset += take
            if self._offset >= clip.size:
                self._clips.popleft()
                self._offset = 0
                if not done.done():
                    done.set_result(time.monotonic())
        pcm = (np.clip(packet, -1.0, 1.0) * 32767.0).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = RATE_HZ, self._pts, TIME_BASE
        self._pts += PACKET_SAMPLES
        return frame
