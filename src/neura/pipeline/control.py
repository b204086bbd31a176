"""Progress reporting and cancellation, shared by the offline job and the live session."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

from neura.errors import CancelledError


class ProgressCallback(Protocol):
    def __call__(self, stage: str, fraction: float, message: str = "") -> None:
        """``fraction`` is the stage's own progress in [0, 1]."""


def no_progress(stage: str, fraction: float, message: str = "") -> None:
    return None


class CancelToken:
    """Thread-safe cancellation flag checked between units of work (sentences, frames)."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise CancelledError("the render was cancelled")


class StageTimer:
    """Wall-clock seconds per named stage (stages may overlap when they stream)."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self._clock = clock
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = self._clock()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + self._clock() - start

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds
