"""One media clock per session: both tracks pace against it.

Media time ``t`` is due at ``start + t`` on the monotonic clock. A track waits for the absolute due
time of each frame (never "sleep one frame period"), so pacing errors do not accumulate: a late frame
is followed by an early one, and after an hour the tracks are exactly where the clock says.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class MediaClock:
    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._start: float | None = None

    @property
    def started(self) -> bool:
        return self._start is not None

    def start(self) -> None:
        """Start the clock (the first track to ask for a frame does); later calls change nothing."""
        if self._start is None:
            self._start = self._now()

    def media_s(self) -> float:
        """Media time now (0 before the start)."""
        return 0.0 if self._start is None else self._now() - self._start

    def lateness_s(self, media_s: float) -> float:
        """How long ago ``media_s`` was due (negative: still ahead)."""
        return self.media_s() - media_s

    async def wait_until(self, media_s: float) -> None:
        self.start()
        delay_s = -self.lateness_s(media_s)
        if delay_s > 0:
            await asyncio.sleep(delay_s)
