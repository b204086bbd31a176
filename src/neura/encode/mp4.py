"""MP4 writer: H.264 (libx264, yuv420p, BT.709) + AAC-LC, faststart, written atomically.

The file is written to a hidden temporary file next to the target and renamed onto the target only
when :meth:`Mp4Writer.close` succeeds; :meth:`Mp4Writer.abort` (or an exception inside a ``with``
block) deletes it. The target path therefore never holds a partial MP4.

Audio and video end together: audio is encoded only as far as the video has got, and on close it is
padded with silence or trimmed to the video's duration (within one AAC frame's rounding, which is
far below one video frame).

Threads: ``threads=0`` lets x264 choose (1.5 per core); ``thread_type="frame"`` (x264's own default,
PyAV's is slice) encodes several frames at once in x264's threads, so encoding overlaps with the
caller rendering the next frame; ``"slice"`` splits each frame instead (lower latency, a little less
compression). Output bytes are identical for identical inputs and settings; with ``threads=0`` they
also depend on the number of cores, so pin ``threads`` where bytes must match across machines.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Literal

import av
import av.error
import numpy as np
import numpy.typing as npt
from av.audio.fifo import AudioFifo
from av.audio.resampler import AudioResampler
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.video.reformatter import ColorPrimaries, ColorRange, Colorspace, ColorTrc
from av.video.stream import VideoStream
from typing_extensions import Self

from neura.encode.atomic import discard, output_error, temp_path_beside
from neura.encode.yuv import check_even_size, rgb_to_i420
from neura.errors import InputError

ThreadType = Literal["frame", "slice"]
GOP_S = 2.0
_AAC_FRAME_SIZE = 1024
_WRITE_ERRORS = (OSError, av.error.FFmpegError)


def _fps_fraction(fps: float) -> Fraction:
    return Fraction(fps).limit_denominator(1001)


class ClosesOnExit:
    """``with writer:`` finishes the file on success and aborts it (nothing left behind) on an error."""

    def close(self) -> None:
        raise NotImplementedError

    def abort(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class Mp4Writer(ClosesOnExit):
    """Write frames and audio to an MP4; use as a context manager.

    ``write_frame`` takes either RGB uint8 ``(height, width, 3)`` or I420 uint8
    ``(height * 3 // 2, width)`` (see :mod:`neura.encode.yuv` for the layout; BT.709 limited range).
    ``write_audio`` takes float32 mono samples at any rate; they are resampled to
    ``audio_sample_rate_hz``. Pass ``audio_sample_rate_hz=None`` for a file without audio.
    ``crf``/``preset`` are x264's; ``audio_bitrate`` is in bits per second.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        width: int,
        height: int,
        fps: float = 25,
        audio_sample_rate_hz: int | None = 48000,
        crf: int = 23,
        preset: str = "veryfast",
        threads: int = 0,
        audio_bitrate: int = 128_000,
        thread_type: ThreadType = "frame",
    ) -> None:
        check_even_size(width, height)
        if not fps > 0:
            raise InputError(f"fps must be positive, got {fps}")
        self.path = Path(path)
        self.width, self.height = width, height
        self.fps = _fps_fraction(fps)
        self.n_frames = 0
        self._closed = False
        self._tmp_path = temp_path_beside(self.path, "video")
        try:
            self._container: OutputContainer = av.open(
                str(self._tmp_path), "w", format="mp4", options={"movflags": "+faststart"}
            )
            self._video = self._add_video(crf, preset, threads, thread_type)
            self._audio: AudioStream | None = None
            self._audio_rate_hz = audio_sample_rate_hz or 0
            if audio_sample_rate_hz:
                self._audio = self._add_audio(audio_sample_rate_hz, audio_bitrate)
            self._container.start_encoding()
        except _WRITE_ERRORS as exc:
            self._discard()
            raise output_error(self.path, exc, "video") from exc
        except BaseException:
            self._discard()
            raise
        self._fifo = AudioFifo()
        self._resampler: AudioResampler | None = None
        self._resampler_input_hz = 0
        self._audio_samples_encoded = 0

    def _add_video(self, crf: int, preset: str, threads: int, thread_type: ThreadType) -> VideoStream:
        stream = self._container.add_stream("libx264", rate=self.fps)
        ctx = stream.codec_context
        ctx.width, ctx.height, ctx.pix_fmt = self.width, self.height, "yuv420p"
        ctx.time_base = 1 / self.fps
        ctx.gop_size = max(1, round(GOP_S * float(self.fps)))
        ctx.thread_count = threads
        ctx.thread_type = thread_type.upper()
        ctx.colorspace = Colorspace.ITU709
        ctx.color_primaries = ColorPrimaries.BT709
        ctx.color_trc = ColorTrc.BT709
        ctx.color_range = ColorRange.MPEG
        ctx.options = {"crf": str(crf), "preset": preset}
        return stream

    def _add_audio(self, sample_rate_hz: int, bitrate: int) -> AudioStream:
        stream = self._container.add_stream("aac", rate=sample_rate_hz)
        ctx = stream.codec_context
        ctx.layout, ctx.format, ctx.bit_rate = "mono", "fltp", bitrate
        ctx.time_base = Fraction(1, sample_rate_hz)
        # FFmpeg's default "twoloop" AAC coder cost ~0.9 ms per video frame of speech here, serialised
        # on the writing thread, and slowed 720p muxing by ~20%; "fast" is transparent for speech.
        ctx.options = {"aac_coder": "fast"}
        return stream

    # --- writing

    def write_frame(self, frame: npt.NDArray[np.uint8]) -> None:
        """Append one video frame (RGB ``(H, W, 3)`` or I420 ``(H * 3 // 2, W)``, uint8)."""
        self._check_open()
        array = np.ascontiguousarray(frame)
        if array.dtype != np.uint8:
            raise InputError(f"Frames must be uint8, got {array.dtype}")
        if array.shape == (self.height, self.width, 3):
            video_frame = av.VideoFrame.from_ndarray(rgb_to_i420(array), format="yuv420p")
        elif array.shape == (self.height * 3 // 2, self.width):
            video_frame = av.VideoFrame.from_ndarray(array, format="yuv420p")
        else:
            raise InputError(
                f"Frame shape {array.shape} fits neither RGB ({self.height}, {self.width}, 3) "
                f"nor I420 ({self.height * 3 // 2}, {self.width})"
            )
        video_frame.pts = self.n_frames
        video_frame.time_base = 1 / self.fps
        self.n_frames += 1
        self._guarded(lambda: self._encode_video(video_frame))
        self._pump_audio(final=False)

    def write_audio(self, samples: npt.ArrayLike, sample_rate_hz: int) -> None:
        """Append float32 mono samples in [-1, 1]; any sample rate (resampled to the output's)."""
        self._check_open()
        if self._audio is None:
            raise InputError("This writer was created without audio (audio_sample_rate_hz=None)")
        mono = np.ascontiguousarray(samples, dtype=np.float32).reshape(1, -1)
        if mono.shape[1] == 0:
            return
        if sample_rate_hz <= 0:
            raise InputError(f"sample_rate_hz must be positive, got {sample_rate_hz}")
        frame = av.AudioFrame.from_ndarray(mono, format="flt", layout="mono")
        frame.sample_rate = sample_rate_hz
        if self._resampler is None or self._resampler_input_hz != sample_rate_hz:
            self._flush_resampler()  # what the previous rate left inside comes first
            self._resampler = AudioResampler(format="fltp", layout="mono", rate=self._audio_rate_hz)
            self._resampler_input_hz = sample_rate_hz
        self._buffer_audio(self._resampler.resample(frame))
        self._pump_audio(final=False)

    def _buffer_audio(self, frames: list[av.AudioFrame]) -> None:
        for out in frames:
            out.pts = None
            self._fifo.write(out)

    def _flush_resampler(self) -> None:
        if self._resampler is not None:
            self._buffer_audio(self._resampler.resample(None))
            self._resampler = None

    def _encode_video(self, frame: av.VideoFrame | None) -> None:
        for packet in self._video.encode(frame):
            self._container.mux(packet)

    def _encode_audio(self, frame: av.AudioFrame | None) -> None:
        assert self._audio is not None
        for packet in self._audio.encode(frame):
            self._container.mux(packet)

    def _video_duration_samples(self) -> int:
        return round(self.n_frames * self._audio_rate_hz / self.fps)

    def _pump_audio(self, *, final: bool) -> None:
        """Encode whole AAC frames of buffered audio, never past the video's end."""
        if self._audio is None:
            return
        limit = self._video_duration_samples()
        frame_size = self._audio.codec_context.frame_size or _AAC_FRAME_SIZE
        while True:
            room = limit - self._audio_samples_encoded
            take = min(frame_size, room, self._fifo.samples)
            if take <= 0 or (take < frame_size and not final):
                return
            chunk = self._fifo.read(take)
            if chunk is None:
                return
            chunk.pts = self._audio_samples_encoded
            chunk.time_base = Fraction(1, self._audio_rate_hz)
            self._audio_samples_encoded += take
            self._guarded(functools.partial(self._encode_audio, chunk))

    def _pad_audio_to_video(self) -> None:
        self._flush_resampler()
        missing = self._video_duration_samples() - self._audio_samples_encoded - self._fifo.samples
        if missing > 0:
            silence = av.AudioFrame.from_ndarray(np.zeros((1, missing), np.float32), format="fltp", layout="mono")
            silence.sample_rate = self._audio_rate_hz
            self._fifo.write(silence)
        self._pump_audio(final=True)

    # --- finishing

    def close(self) -> None:
        """Finish both streams, write the file (faststart) and move it onto the target path."""
        if self._closed:
            return
        if self.n_frames == 0:
            self.abort()
            raise InputError(f"No video frames were written; {self.path} was not created")
        try:
            self._pad_audio_to_video()
            self._guarded(lambda: self._encode_video(None))
            if self._audio is not None:
                self._guarded(lambda: self._encode_audio(None))
            self._guarded(self._container.close)
            self._closed = True
            os.replace(self._tmp_path, self.path)
        except OSError as exc:
            self.abort()
            raise output_error(self.path, exc, "video") from exc
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Stop and delete everything written so far; the target path is left untouched."""
        if not self._closed:
            self._closed = True
            with contextlib.suppress(*_WRITE_ERRORS):
                self._container.close()
        self._discard()

    def _discard(self) -> None:
        discard(self._tmp_path)

    def _check_open(self) -> None:
        if self._closed:
            raise InputError(f"The writer for {self.path} is already closed")

    def _guarded(self, action: Callable[[], object]) -> None:
        """Run an encoder/muxer action; I/O failures become :class:`OutputError` and abort."""
        try:
            action()
        except _WRITE_ERRORS as exc:
            self.abort()
            raise output_error(self.path, exc, "video") from exc
