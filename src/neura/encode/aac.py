"""The AAC track of an MP4: float32 mono in, AAC-LC packets muxed, never longer than the video.

Shared by :class:`~neura.encode.mp4.Mp4Writer` (audio and video in one file) and
:class:`~neura.encode.segments.SegmentedMp4Writer` (the whole track encoded once, in its own file,
while the video is encoded in segments elsewhere): the caller says how far the video has got, in
samples, and only that much audio is encoded, so the two end together whatever order they come in.
"""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import numpy.typing as npt
from av.audio.fifo import AudioFifo
from av.audio.resampler import AudioResampler
from av.audio.stream import AudioStream
from av.container import OutputContainer

from neura.errors import InputError

_AAC_FRAME_SIZE = 1024


class AacTrack:
    """One mono AAC-LC stream of ``container`` (added here, before the container starts encoding)."""

    def __init__(self, container: OutputContainer, sample_rate_hz: int, bitrate: int = 128_000) -> None:
        self._container = container
        self.sample_rate_hz = sample_rate_hz
        stream = container.add_stream("aac", rate=sample_rate_hz)
        ctx = stream.codec_context
        ctx.layout, ctx.format, ctx.bit_rate = "mono", "fltp", bitrate
        ctx.time_base = Fraction(1, sample_rate_hz)
        # FFmpeg's default "twoloop" AAC coder cost ~0.9 ms per video frame of speech here, serialised
        # on the writing thread, and slowed 720p muxing by ~20%; "fast" is transparent for speech.
        ctx.options = {"aac_coder": "fast"}
        self._stream: AudioStream = stream
        self._fifo = AudioFifo()
        self._resampler: AudioResampler | None = None
        self._resampler_input_hz = 0
        self.samples_encoded = 0

    def write(self, samples: npt.ArrayLike, sample_rate_hz: int) -> None:
        """Buffer float32 mono samples in [-1, 1] at any rate (resampled to the track's)."""
        mono = np.ascontiguousarray(samples, dtype=np.float32).reshape(1, -1)
        if mono.shape[1] == 0:
            return
        if sample_rate_hz <= 0:
            raise InputError(f"sample_rate_hz must be positive, got {sample_rate_hz}")
        frame = av.AudioFrame.from_ndarray(mono, format="flt", layout="mono")
        frame.sample_rate = sample_rate_hz
        if self._resampler is None or self._resampler_input_hz != sample_rate_hz:
            self._flush_resampler()  # what the previous rate left inside comes first
            self._resampler = AudioResampler(format="fltp", layout="mono", rate=self.sample_rate_hz)
            self._resampler_input_hz = sample_rate_hz
        self._buffer(self._resampler.resample(frame))

    def samples_for(self, n_frames: int, fps: Fraction) -> int:
        """How many samples ``n_frames`` of video at ``fps`` last."""
        return round(n_frames * self.sample_rate_hz / fps)

    def pump(self, limit_samples: int, *, final: bool = False) -> None:
        """Encode whole AAC frames of buffered audio, never past ``limit_samples`` (the video's end);
        ``final`` also encodes the last, shorter frame."""
        frame_size = self._stream.codec_context.frame_size or _AAC_FRAME_SIZE
        while True:
            room = limit_samples - self.samples_encoded
            take = min(frame_size, room, self._fifo.samples)
            if take <= 0 or (take < frame_size and not final):
                return
            chunk = self._fifo.read(take)
            if chunk is None:
                return
            chunk.pts = self.samples_encoded
            chunk.time_base = Fraction(1, self.sample_rate_hz)
            self.samples_encoded += take
            self._encode(chunk)

    def finish(self, limit_samples: int) -> None:
        """Pad with silence or trim to exactly ``limit_samples``, then flush the encoder."""
        self._flush_resampler()
        missing = limit_samples - self.samples_encoded - self._fifo.samples
        if missing > 0:
            silence = av.AudioFrame.from_ndarray(np.zeros((1, missing), np.float32), format="fltp", layout="mono")
            silence.sample_rate = self.sample_rate_hz
            self._fifo.write(silence)
        self.pump(limit_samples, final=True)
        self._encode(None)

    def _buffer(self, frames: list[av.AudioFrame]) -> None:
        for out in frames:
            out.pts = None
            self._fifo.write(out)

    def _flush_resampler(self) -> None:
        if self._resampler is not None:
            self._buffer(self._resampler.resample(None))
            self._resampler = None

    def _encode(self, frame: av.AudioFrame | None) -> None:
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
