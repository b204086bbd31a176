"""Voice synthesis on a producer thread, consumed sentence by sentence."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType

from neura.media import SpeechChunk
from neura.pipeline.control import CancelToken
from neura.tts import TTSEngine


@dataclass(frozen=True)
class SentenceReady:
    scene_index: int
    chunk: SpeechChunk


@dataclass(frozen=True)
class SceneEnd:
    scene_index: int


_DONE = object()


class SpeechProducer:
    """Synthesises ``texts`` in order on a daemon thread and yields :class:`SentenceReady` and
    :class:`SceneEnd` items as they become ready. A bounded queue keeps at most a few sentences ahead.
    An engine error is re-raised in the consumer; leaving the ``with`` block stops the thread."""

    def __init__(self, tts: TTSEngine, texts: Sequence[str], cancel: CancelToken, *, ahead: int = 4) -> None:
        self._tts = tts
        self._texts = list(texts)
        self._cancel = cancel
        self._queue: queue.Queue[object] = queue.Queue(maxsize=ahead)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="neura-tts", daemon=True)
        self.busy_s = 0.0

    def __enter__(self) -> SpeechProducer:
        try:
            self._thread.start()
        except BaseException:  # Ctrl-C or SIGTERM while start() waits: the thread may already be running
            self.__exit__(None, None, None)  # stopped and joined, or it would die in onnxruntime at exit (SIGABRT)
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        while self._thread.is_alive():
            try:  # unblock a producer waiting on a full queue
                self._queue.get_nowait()
            except queue.Empty:
                self._thread.join(timeout=0.05)

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            for index, text in enumerate(self._texts):
                chunks = self._tts.synthesize(text)
                while True:
                    if self._stop.is_set() or self._cancel.cancelled:
                        return
                    start = time.perf_counter()
                    chunk = next(chunks, None)
                    self.busy_s += time.perf_counter() - start
                    if chunk is None:
                        break
                    if not self._put(SentenceReady(index, chunk)):
                        return
                if not self._put(SceneEnd(index)):
                    return
            self._put(_DONE)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            self._put(exc)

    def __iter__(self) -> Iterator[SentenceReady | SceneEnd]:
        while True:
            try:
                item = self._queue.get(timeout=0.1)
            except queue.Empty:
                self._cancel.raise_if_cancelled()
                continue
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, SentenceReady | SceneEnd)
            yield item
