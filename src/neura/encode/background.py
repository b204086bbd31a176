"""An :class:`Mp4Writer` driven from its own thread, so encoding overlaps with whatever makes the frames.

x264 and the AAC encoder run inside PyAV without Python's lock for most of their work, so a renderer on
the calling thread and the encoder here use both cores. Calls are queued in order (a bounded queue keeps
memory flat); the first encoder error is raised on the caller's next call, or by ``close()``.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from neura.encode.mp4 import ClosesOnExit, Mp4Writer

_STOP = object()


class BackgroundMp4Writer(ClosesOnExit):
    """Same interface as :class:`Mp4Writer` (``write_frame``, ``write_audio``, ``close``, ``abort``,
    context manager). Frames are copied on the way in, so the caller may reuse its buffers."""

    def __init__(self, path: Any, *, queue_frames: int = 8, **writer_options: Any) -> None:
        self._writer = Mp4Writer(path, **writer_options)
        self.path = self._writer.path
        self._queue: queue.Queue[object] = queue.Queue(maxsize=queue_frames)
        self._error: BaseException | None = None
        self._closed = False
        self.busy_s = 0.0  # seconds the encoder thread spent encoding (frames, audio, the final flush)
        self._thread = threading.Thread(target=self._run, name="neura-encoder", daemon=True)
        try:
            self._thread.start()
        except BaseException:  # Ctrl-C or SIGTERM while start() waits: no caller will ever close this writer
            self.abort()
            raise

    @property
    def n_frames(self) -> int:
        return self._writer.n_frames

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            if self._error is not None:
                continue  # drain after a failure; the caller learns of it on its next call
            action: Callable[[], None] = item  # type: ignore[assignment]
            started = time.perf_counter()
            try:
                action()
            except BaseException as exc:  # handed to the calling thread, which re-raises it
                self._error = exc
            self.busy_s += time.perf_counter() - started

    def _submit(self, action: Callable[[], None]) -> None:
        self._raise_pending()
        if self._closed:
            raise RuntimeError("the writer is closed")
        self._queue.put(action)

    def _raise_pending(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            self._stop_thread()
            self._writer.abort()
            raise error

    def write_frame(self, frame: npt.NDArray[np.uint8]) -> None:
        copy = np.array(frame, copy=True)
        self._submit(lambda: self._writer.write_frame(copy))

    def write_audio(self, samples: npt.ArrayLike, sample_rate_hz: int) -> None:
        copy = np.array(samples, dtype=np.float32, copy=True)
        self._submit(lambda: self._writer.write_audio(copy, sample_rate_hz))

    def _stop_thread(self) -> None:
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()

    def close(self) -> None:
        """Wait for the queued work, then finish the file (see :meth:`Mp4Writer.close`)."""
        if self._closed:
            return
        self._stop_thread()
        self._closed = True
        self._raise_pending()
        started = time.perf_counter()
        self._writer.close()
        self.busy_s += time.perf_counter() - started

    def abort(self) -> None:
        self._closed = True
        self._stop_thread()
        self._writer.abort()
