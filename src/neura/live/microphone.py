"""The client's microphone track (the ``sendrecv`` audio of its SDP offer) into the live pipeline.

aiortc decodes the Opus packets into 20 ms frames (48 kHz, usually stereo s16); each becomes mono,
16 kHz float32 (:class:`~neura.stt.resample.StreamResampler`) and enters the pipeline as a
:class:`~neura.live.frames.UserAudio` frame, handled inline (voice activity detection costs well under
a millisecond per packet; transcription runs in its executor).

:func:`hear_sooner`: aiortc's receiver holds every audio packet until four more have arrived (80 ms,
room for packets that arrive out of order on the internet) before it is decoded. For the microphone,
that hold delays every speech onset (barge-in) and every end of speech (the turn) by 80 ms, while a
packet that comes too late and is dropped costs the speech recogniser 20 ms of one word: the gateway
keeps one packet (20 ms) instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

import av
import numpy as np
import numpy.typing as npt
from aiortc import RTCRtpReceiver
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from neura.live.frames import Frame, UserAudio
from neura.stt.resample import StreamResampler

log = logging.getLogger(__name__)

MICROPHONE_PREFETCH_PACKETS = 1  # aiortc's audio default is 4 (80 ms)


def hear_sooner(receiver: RTCRtpReceiver, packets: int = MICROPHONE_PREFETCH_PACKETS) -> bool:
    """Make ``receiver``'s jitter buffer release an audio packet once ``packets`` more have arrived (see
    the module docstring). False (and nothing changed) when this aiortc keeps it elsewhere."""
    buffer = getattr(receiver, "_RTCRtpReceiver__jitter_buffer", None)
    if buffer is None or not isinstance(getattr(buffer, "_prefetch", None), int):
        log.warning("live: this aiortc's receive buffer is unknown; the microphone is heard 80 ms late")
        return False
    buffer._prefetch = packets
    return True


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
