"""The client's microphone track (the ``sendrecv`` audio of its SDP offer) into the live pipeline.

aiortc decodes the Opus packets into 20 ms frames (48 kHz, usually stereo s16); each becomes mono,
16 kHz float32 (:class:`~neura.stt.resample.StreamResampler`) and enters the pipeline as a
:class:`~neura.live.frames.UserAudio` frame, handled inline (voice activity detection costs well under
a millisecond per packet; transcription runs in its executor).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

import av
import numpy as np
import numpy.typing as npt
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from neura.live.frames import Frame, UserAudio
from neura.stt.resample import StreamResampler

log = logging.getLogger(__name__)


def mono_float(frame: av.AudioFrame) -> npt.NDArray[np.float32]:
    """A decoded frame as mono float32 in -1..1 (channels averaged)."""
    data = frame.to_ndarray()
    channels = len(frame.layout.channels)
    if frame.format.is_planar:
        samples = data.reshape(channels, -1).mean(axis=0)
    else:
        samples = data.reshape(-1, channels).mean(axis=1)
    if data.dtype == np.int16:
        samples = samples / 32768.0
    elif data.dtype == np.int32:
        samples = samples / 2147483648.0
    return samples.astype(np.float32)


async def listen(track: MediaStreamTrack, push: Callable[[Frame], Awaitable[None]]) -> None:
    """Read ``track`` until it ends, pushing 16 kHz :class:`UserAudio` frames. A failure stops the hearing
    (logged once), not the session: typed messages keep working."""
    try:
        await _listen(track, push)
    except Exception:
        log.exception("live: the microphone cannot be heard any more")


async def _listen(track: MediaStreamTrack, push: Callable[[Frame], Awaitable[None]]) -> None:
    resampler: StreamResampler | None = None
    first_sample = 0
    while True:
        try:
            frame = await track.recv()
        except MediaStreamError:
            return
        if not isinstance(frame, av.AudioFrame):
            continue
        arrived_s = time.monotonic()
        if resampler is None or resampler.from_hz != frame.sample_rate:
            resampler = StreamResampler(frame.sample_rate)
        samples = resampler.push(mono_float(frame))
        if not samples.size:
            continue
        level = float(np.sqrt(np.mean(samples * samples)))
        await push(UserAudio(samples, first_sample, arrived_s, level))
        first_sample += samples.size
