"""An MP4 writer that encodes the video in parallel segments, one process per core.

x264's own threads stop scaling well after a few cores (the GPU machine of issue 10: 100 fps at 720p
with 16 threads in one process, 945 fps with one process per core). So a long video is cut into
segments of whole keyframe intervals; the calling thread copies each frame into a shared-memory slot,
and a full slot is encoded by a worker process into a video-only MP4 that opens with a keyframe.
The audio is encoded here, once, for the whole video (no seams, and it ends with the video exactly
as :class:`~neura.encode.mp4.Mp4Writer`'s does). :meth:`SegmentedMp4Writer.close` joins the segments
and the audio without re-encoding (:mod:`neura.encode.join`).

Memory: ``workers + 1`` slots of one segment each (2 s of 1280x720 I420 frames: 69 MB a slot). The
caller waits when every slot is in use, which keeps memory flat whatever the video's length.
Everything in between (slots, segment files, the audio file) is removed on success and on failure; a
worker that dies (killed, out of memory) fails the render with an :class:`~neura.errors.EncoderError`.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing.shared_memory import SharedMemory
from pathlib import Path
from typing import Any

import av
import av.error
import numpy as np
import numpy.typing as npt
from av.container import OutputContainer

from neura.encode.aac import AacTrack
from neura.encode.atomic import discard, output_error, temp_dir_beside, temp_path_beside
from neura.encode.join import join_segments
from neura.encode.mp4 import ClosesOnExit, Mp4Writer, ThreadType, fps_fraction, gop_frames
from neura.encode.yuv import check_even_size
from neura.errors import EncoderError, InputError

_WRITE_ERRORS = (OSError, av.error.FFmpegError)


@dataclass(frozen=True)
class _SegmentJob:
    """What a worker needs to encode one segment (picklable: it crosses the process boundary)."""

    slot_name: str
    n_frames: int
    frame_shape: tuple[int, ...]
    path: str
    writer_options: dict[str, Any]


def _encode_segment(job: _SegmentJob) -> float:
    """Encode the slot's frames into ``job.path``; the seconds it took. Runs in a worker process."""
    started = time.perf_counter()
    slot = SharedMemory(name=job.slot_name)
    try:
        assert slot.buf is not None  # an attached slot has its buffer until closed
        _write_segment(slot.buf, job)
    finally:
        with contextlib.suppress(BufferError):  # a failed encode's traceback may still hold a view
            slot.close()
    return time.perf_counter() - started


def _write_segment(buffer: memoryview, job: _SegmentJob) -> None:
    frames: npt.NDArray[np.uint8] = np.ndarray((job.n_frames, *job.frame_shape), np.uint8, buffer=buffer)
    with Mp4Writer(job.path, audio_sample_rate_hz=None, **job.writer_options) as writer:
        for frame in frames:
            writer.write_frame(frame)


def segment_frames(fps: float, segment_s: float) -> int:
    """Frames in one segment: ``segment_s`` rounded to whole keyframe intervals, at least one."""
    gop = gop_frames(fps_fraction(fps))
    return gop * max(1, round(segment_s * fps / gop))


def _warm() -> None:
    """Started once per worker while the first segment fills, so no segment waits for a process to
    start and import PyAV."""


class SegmentedMp4Writer(ClosesOnExit):
    """Same interface as :class:`~neura.encode.background.BackgroundMp4Writer` (``write_frame``,
    ``write_audio``, ``close``, ``abort``, ``busy_s``, context manager). Every frame must have the
    shape of the first (RGB or I420, see :mod:`neura.encode.yuv`); frames are copied on the way in.

    ``segment_s`` is rounded to whole keyframe intervals (``GOP_S``); ``threads`` are x264's threads
    per worker (1: one process per core is the point).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        width: int,
        height: int,
        fps: float = 25,
        workers: int,
        segment_s: float = 2.0,
        audio_sample_rate_hz: int | None = 48000,
        audio_bitrate: int = 128_000,
        threads: int = 1,
        thread_type: ThreadType = "frame",
        **video_options: Any,
    ) -> None:
        check_even_size(width, height)
        if workers < 1:
            raise InputError(f"workers must be 1 or more, got {workers}")
        if not fps > 0:
            raise InputError(f"fps must be positive, got {fps}")
        self.path = Path(path)
        self.width, self.height = width, height
        self.fps = fps_fraction(fps)
        self.segment_frames = segment_frames(fps, segment_s)
        self.n_frames = 0
        self.busy_s = 0.0  # seconds spent encoding, summed over the workers, plus the join
        self._writer_options = {
            "width": width,
            "height": height,
            "fps": fps,
            "threads": threads,
            "thread_type": thread_type,
            **video_options,
        }
        self._workers = workers
        self._closed = False
        self._frame_shape: tuple[int, ...] | None = None
        self._slots: list[SharedMemory] = []  # every slot made; the free ones are in _free
        self._free: list[SharedMemory] = []
        self._filling: tuple[SharedMemory, npt.NDArray[np.uint8]] | None = None
        self._filled = 0  # frames in the slot being filled
        self._in_flight: deque[tuple[Future[float], SharedMemory]] = deque()
        self._segments: list[tuple[Path, int]] = []
        self._audio_container: OutputContainer | None = None
        self._audio_path: Path | None = None
        self._audio: AacTrack | None = None
        self._folder = temp_dir_beside(self.path, "video")
        try:
            self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
            if audio_sample_rate_hz:
                self._open_audio(audio_sample_rate_hz, audio_bitrate)
            for _ in range(workers):
                self._pool.submit(_warm)
        except BaseException:
            self.abort()
            raise

    def _open_audio(self, sample_rate_hz: int, bitrate: int) -> None:
        self._audio_path = self._folder / "audio.mp4"
        try:
            self._audio_container = av.open(str(self._audio_path), "w", format="mp4")
            self._audio = AacTrack(self._audio_container, sample_rate_hz, bitrate)
            self._audio_container.start_encoding()
        except _WRITE_ERRORS as exc:
            raise output_error(self.path, exc, "video") from exc

    # --- writing

    def write_frame(self, frame: npt.NDArray[np.uint8]) -> None:
        """Append one video frame (RGB ``(H, W, 3)`` or I420 ``(H * 3 // 2, W)``, uint8)."""
        self._check_open()
        array = np.asarray(frame)
        self._check_frame(array)
        self._guarded(lambda: self._append(array))

    def write_audio(self, samples: npt.ArrayLike, sample_rate_hz: int) -> None:
        """Append float32 mono samples in [-1, 1]; any sample rate (resampled to the output's)."""
        self._check_open()
        if self._audio is None:
            raise InputError("This writer was created without audio (audio_sample_rate_hz=None)")
        self._audio.write(samples, sample_rate_hz)
        self._guarded(self._pump_audio)

    def _check_frame(self, array: npt.NDArray[Any]) -> None:
        if array.dtype != np.uint8:
            raise InputError(f"Frames must be uint8, got {array.dtype}")
        shapes = [(self.height, self.width, 3), (self.height * 3 // 2, self.width)]
        if self._frame_shape is None and array.shape in shapes:
            self._frame_shape = array.shape
        if array.shape != self._frame_shape:
            raise InputError(
                f"Frame shape {array.shape} does not fit this writer: every frame has the shape of the first, "
                f"RGB ({self.height}, {self.width}, 3) or I420 ({self.height * 3 // 2}, {self.width})"
            )

    def _append(self, array: npt.NDArray[np.uint8]) -> None:
        if self._filling is None:
            self._filling = self._take_slot(array.nbytes)
            self._filled = 0
        self._filling[1][self._filled] = array
        self._filled += 1
        self.n_frames += 1
        if self._filled == self.segment_frames:
            self._submit_filling()
        self._pump_audio()
        self._collect(block=False)

    def _take_slot(self, frame_bytes: int) -> tuple[SharedMemory, npt.NDArray[np.uint8]]:
        """A free slot; a new one while fewer than ``workers + 1`` exist; else wait for the oldest segment."""
        if not self._free and len(self._slots) <= self._workers:
            slot = SharedMemory(create=True, size=frame_bytes * self.segment_frames)
            self._slots.append(slot)
            self._free.append(slot)
        while not self._free:
            self._collect(block=True)
        slot = self._free.pop()
        assert self._frame_shape is not None
        frames: npt.NDArray[np.uint8] = np.ndarray((self.segment_frames, *self._frame_shape), np.uint8, buffer=slot.buf)
        return slot, frames

    def _submit_filling(self) -> None:
        if self._filling is None:
            return
        slot, frames = self._filling
        del frames
        self._filling = None
        index = len(self._segments)
        path = self._folder / f"segment-{index:05d}.mp4"
        assert self._frame_shape is not None
        job = _SegmentJob(slot.name, self._filled, self._frame_shape, str(path), self._writer_options)
        self._in_flight.append((self._pool.submit(_encode_segment, job), slot))
        self._segments.append((path, self.n_frames - self._filled))

    def _collect(self, *, block: bool) -> None:
        """Take the results of finished segments, oldest first (``block``: wait for the oldest); a
        worker's error is raised here."""
        while self._in_flight and (block or self._in_flight[0][0].done()):
            future, slot = self._in_flight.popleft()
            try:
                self.busy_s += future.result()
            finally:
                self._free.append(slot)
            block = False

    def _pump_audio(self) -> None:
        if self._audio is not None:
            self._audio.pump(self._audio.samples_for(self.n_frames, self.fps))

    # --- finishing

    def close(self) -> None:
        """Encode what is left, join the segments and the audio, and move the MP4 onto the target."""
        if self._closed:
            return
        if self.n_frames == 0:
            self.abort()
            raise InputError(f"No video frames were written; {self.path} was not created")
        self._guarded(self._finish)

    def _finish(self) -> None:
        self._submit_filling()
        while self._in_flight:
            self._collect(block=True)
        if self._audio is not None and self._audio_container is not None:
            self._audio.finish(self._audio.samples_for(self.n_frames, self.fps))
            self._audio_container.close()
        started = time.perf_counter()
        joined = temp_path_beside(self.path, "video")
        try:
            join_segments(self._segments, self._audio_path, joined, self.fps)
            os.replace(joined, self.path)
        finally:
            discard(joined)
        self.busy_s += time.perf_counter() - started
        self._closed = True
        self._release()

    def abort(self) -> None:
        """Stop, and delete everything written so far; the target path is left untouched."""
        self._closed = True
        if self._audio_container is not None:
            with contextlib.suppress(*_WRITE_ERRORS):
                self._audio_container.close()
        self._release()

    def _release(self) -> None:
        """Stop the workers (a running segment finishes first) and remove the slots and the folder."""
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        self._filling = None
        for slot in self._slots:
            with contextlib.suppress(FileNotFoundError):
                slot.unlink()  # the name goes at once; the memory when the last mapping closes
            with contextlib.suppress(BufferError):
                slot.close()
        self._slots.clear()
        shutil.rmtree(self._folder, ignore_errors=True)

    def _check_open(self) -> None:
        if self._closed:
            raise InputError(f"The writer for {self.path} is already closed")

    def _guarded(self, action: Any) -> None:
        """Run an action; any failure aborts (nothing left behind), I/O failures become OutputError and
        a dead worker (the pool breaks for every segment) an EncoderError."""
        try:
            action()
        except BrokenProcessPool as exc:
            self.abort()
            raise EncoderError(
                f"a video encoder process died while writing {self.path.name} (killed, or out of memory)",
                hint="try again; if it happens again, give the encoder fewer processes (ENCODE_WORKERS)",
            ) from exc
        except _WRITE_ERRORS as exc:
            self.abort()
            raise output_error(self.path, exc, "video") from exc
        except BaseException:
            self.abort()
            raise
