"""Audio to the 16 kHz mono float32 that speech recognition and voice activity detection read.

WebRTC microphones arrive at 48 kHz (Opus), telephone recordings at 8 kHz. :class:`StreamResampler`
converts a stream piece by piece with FFmpeg's swresample (through PyAV), keeping its filter state
between pieces, so a stream resampled in 20 ms pieces equals the whole stream resampled at once
(up to the filter's delay, which :meth:`StreamResampler.flush` releases at the end). For a whole
recording use :func:`neura.encode.audio.resample` or :func:`neura.encode.audio.decode_audio_bytes`.
"""

from __future__ import annotations

import av
import numpy as np
from av.audio.resampler import AudioResampler

from neura.stt.base import SAMPLE_RATE_HZ, Samples


class StreamResampler:
    """float32 mono at ``from_hz`` in, float32 mono at ``to_hz`` (16 kHz) out. Not thread-safe."""

    def __init__(self, from_hz: int, to_hz: int = SAMPLE_RATE_HZ) -> None:
        self.from_hz, self.to_hz = from_hz, to_hz
        self._resampler = AudioResampler(format="flt", layout="mono", rate=to_hz) if from_hz != to_hz else None

    def push(self, samples: Samples) -> Samples:
        """Resample the next piece; the output may lag the input by the filter's delay (about 1 ms)."""
        audio = np.ascontiguousarray(samples, dtype=np.float32).reshape(1, -1)
        if self._resampler is None or audio.size == 0:
            return audio.reshape(-1).copy()
        frame = av.AudioFrame.from_ndarray(audio, format="flt", layout="mono")
        frame.sample_rate = self.from_hz
        return _joined(self._resampler.resample(frame))

    def flush(self) -> Samples:
        """What the filter still holds, at the end of the stream."""
        if self._resampler is None:
            return np.zeros(0, np.float32)
        return _joined(self._resampler.resample(None))


def _joined(frames: list[av.AudioFrame]) -> Samples:
    if not frames:
        return np.zeros(0, np.float32)
    return np.concatenate([np.asarray(f.to_ndarray(), dtype=np.float32).reshape(-1) for f in frames])
