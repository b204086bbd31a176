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
from av.container import OutputContainer
from av.video.reformatter import ColorPrimaries, ColorRange, Colorspace, ColorTrc
from av.video.stream import VideoStream
from typing_extensions import Self

from neura.encode.aac import AacTrack
from neura.encode.atomic import discard, output_error, temp_path_beside
from neura.encode.h264 import H264Codec, h264_options
from neura.encode.yuv import check_even_size, rgb_to_i420
from neura.errors import InputError

ThreadType = Literal["frame", "slice"]
GOP_S = 2.0
_WRITE_ERRORS = (OSError, av.error.FFmpegError)


def fps_fraction(fps: float) -> Fraction:
    return Fraction(fps).limit_denominator(1001)


def gop_frames(fps: Fraction) -> int:
    """Frames from one keyframe to the next (at most: x264 adds one at a scene cut)."""
    return max(1, round(GOP_S * float(fps)))


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
    ``crf``/``preset`` are x264's (``codec="h264_nvenc"`` maps them, see :func:`~neura.encode.h264.h264_options`);
    ``audio_bitrate`` is in bits per second.
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
        codec: H264Codec = "libx264",
    ) -> None:
        check_even_size(width, height)
        if not fps > 0:
            raise InputError(f"fps must be positive, got {fps}")
        self.path = Path(path)
        self.width, self.height = width, height
        self.fps = fps_fraction(fps)
        self.n_frames = 0
        self._closed = False
        self._tmp_path = temp_path_beside(self.path, "video")
        try:
            self._container: OutputContainer = av.open(
                str(self._tmp_path), "w", format="mp4", options={"movflags": "+faststart"}
            )
            self._video = self._add_video(codec, crf, preset, threads, thread_type)
            self._audio: AacTrack | None = None
            if audio_sample_rate_hz:
                self._audio = AacTrack(self._container, audio_sample_rate_hz, audio_bitrate)
            self._container.start_encoding()
        except _WRITE_ERRORS as exc:
            self._discard()
            raise output_error(self.path, exc, "video") from exc
        except BaseException:
            self._discard()
            raise

    def _add_video(self, codec: H264Codec, crf: int, preset: str, threads: int, thread_type: ThreadType) -> VideoStream:
        stream = self._container.add_stream(codec, rate=self.fps)
        ctx = stream.codec_context
        ctx.width, ctx.height, ctx.pix_fmt = self.width, self.height, "yuv420p"
        ctx.time_base = 1 / self.fps
        ctx.gop_size = gop_frames(self.fps)
        ctx.thread_count = threads
        ctx.thread_type = thread_type.upper()
        ctx.colorspace = Colorspace.ITU709
        ctx.color_primaries = ColorPrimaries.BT709
        ctx.color_trc = ColorTrc.BT709
        ctx.color_range = ColorRange.MPEG
        ctx.options = h264_options(codec, crf, preset)
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
        self._audio.write(samples, sample_rate_hz)
        self._pump_audio(final=False)

    def _encode_video(self, frame: av.VideoFrame | None) -> None:
        for packet in self._video.encode(frame):
            self._container.mux(packet)

    def _pump_audio(self, *, final: bool) -> None:
        """Encode buffered audio as far as the video has got (all of it, padded or trimmed, if final)."""
        audio = self._audio
        if audio is not None:
            limit = audio.samples_for(self.n_frames, self.fps)
            self._guarded(functools.partial(audio.finish if final else audio.pump, limit))

    # --- finishing

    def close(self) -> None:
        """Finish both streams, write the file (faststart) and move it onto the target path."""
        if self._closed:
            return
        if self.n_frames == 0:
            self.abort()
            raise InputError(f"No video frames were written; {self.path} was not created")
        try:
            self._pump_audio(final=True)
            self._guarded(lambda: self._encode_video(None))
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
