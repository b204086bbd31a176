"""Idle motion: blinks, breathing, small head movement and brow raises, generated (never looped).

Every value is a deterministic function of (seed, time): :meth:`IdleMotion.head_pose` may be asked
for any time in any order (the live mode asks frame by frame, the offline renderer in batches) and
always gives the same answer. Continuous motion is a sum of sines at incommensurate frequencies, so
consecutive frames always differ and the pattern never repeats; blinks and brow raises are events
drawn from a seeded renewal process, generated lazily as time advances.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from neura.media import HeadPose

REFERENCE_SIZE_PX = 512  # pixel amplitudes below are for a 512 px avatar and scale with its size


@dataclass(frozen=True)
class _Sines:
    freqs_hz: tuple[float, ...]
    phases: tuple[float, ...]
    amps: tuple[float, ...]

    @classmethod
    def draw(cls, rng: np.random.Generator, freqs_hz: tuple[float, ...], amps: tuple[float, ...]) -> _Sines:
        jitter = rng.uniform(0.85, 1.15, len(freqs_hz))
        return cls(
            tuple(float(f * j) for f, j in zip(freqs_hz, jitter, strict=True)),
            tuple(float(p) for p in rng.uniform(0, 2 * math.pi, len(freqs_hz))),
            amps,
        )

    def __call__(self, t: float) -> float:
        terms = zip(self.freqs_hz, self.phases, self.amps, strict=True)
        return sum(a * math.sin(2 * math.pi * f * t + p) for f, p, a in terms)

    @property
    def bound(self) -> float:
        return float(sum(abs(a) for a in self.amps))


class _Events:
    """Start times of a seeded renewal process (intervals from ``draw``), extended on demand."""

    def __init__(
        self, rng: np.random.Generator, first_s: float, draw_interval: Callable[[np.random.Generator], float]
    ) -> None:
        self._rng = rng
        self._draw = draw_interval
        self.starts: list[float] = [first_s]
        self.extras: list[float] = [float(rng.uniform())]
        self._lock = threading.Lock()

    def upto(self, t_s: float) -> None:
        if self.starts[-1] > t_s:
            return
        with self._lock:
            while self.starts[-1] <= t_s:
                self.starts.append(self.starts[-1] + float(self._draw(self._rng)))
                self.extras.append(float(self._rng.uniform()))

    def around(self, t_s: float, before_s: float) -> list[tuple[float, float]]:
        """(start, extra) of events that started in (t - before, t]."""
        self.upto(t_s + 1.0)
        lo = bisect.bisect_right(self.starts, t_s - before_s)
        hi = bisect.bisect_right(self.starts, t_s)
        return [(self.starts[i], self.extras[i]) for i in range(lo, hi)]


def blink_shape(dt_s: float, amplitude: float = 1.0) -> float:
    """Lid closure (0 open .. 1 closed) ``dt_s`` after a blink starts: ~90 ms down, a 30 ms hold,
    ~170 ms up (the opening is slower, as in real blinks)."""
    close_s, hold_s, open_s = 0.09, 0.03, 0.17
    if dt_s < 0:
        return 0.0
    if dt_s < close_s:
        x = dt_s / close_s
        return amplitude * math.sin(0.5 * math.pi * x) ** 2
    if dt_s < close_s + hold_s:
        return amplitude
    x = (dt_s - close_s - hold_s) / open_s
    if x >= 1:
        return 0.0
    return amplitude * (1.0 - x) ** 2 * (1.0 + 2.0 * x)


BLINK_LENGTH_S = 0.09 + 0.03 + 0.17


class IdleMotion:
    """Natural motion for one avatar. ``size_px`` scales the pixel amplitudes (defaults are for 512)."""

    def __init__(self, seed: int = 0, *, size_px: int = REFERENCE_SIZE_PX) -> None:
        self.seed = seed
        self.px = size_px / REFERENCE_SIZE_PX
        rng = np.random.default_rng([seed, 0x1D1E])
        self._dx = _Sines.draw(rng, (0.061, 0.113, 0.197), (1.4, 0.9, 0.45))
        self._dy = _Sines.draw(rng, (0.083, 0.151, 0.271), (0.8, 0.55, 0.3))
        self._roll = _Sines.draw(rng, (0.047, 0.103, 0.181), (0.65, 0.4, 0.2))
        self._talk_dx = _Sines.draw(rng, (0.37, 0.71), (0.7, 0.35))
        self._talk_dy = _Sines.draw(rng, (0.93, 1.61, 2.3), (0.8, 0.5, 0.3))  # small nods
        self._talk_roll = _Sines.draw(rng, (0.29, 0.53), (0.45, 0.25))
        self._breath_rate_hz = float(rng.uniform(0.22, 0.28))
        self._breath_phase = float(rng.uniform(0, 2 * math.pi))
        self._breath_wobble = _Sines.draw(rng, (0.031,), (0.6,))
        self._blinks = _Events(np.random.default_rng([seed, 0xB11C]), float(rng.uniform(0.6, 2.5)), _blink_interval)
        self._brows = _Events(np.random.default_rng([seed, 0xB80]), float(rng.uniform(0.5, 2.0)), _brow_interval)

    # --- the pieces
    def breath(self, t_s: float) -> float:
        """-1 .. 1, rising on the in-breath."""
        phase = 2 * math.pi * self._breath_rate_hz * t_s + self._breath_phase + self._breath_wobble(t_s)
        return math.sin(phase)

    def blink(self, t_s: float) -> float:
        """Lid closure 0..1 at t (sums overlapping events of a double blink, clipped)."""
        value = 0.0
        for start, extra in self._blinks.around(t_s, BLINK_LENGTH_S):
            value = max(value, blink_shape(t_s - start, 0.9 + 0.1 * min(extra * 3, 1.0)))
        return value

    def blink_starts(self, until_s: float) -> list[float]:
        """Start times of every blink before ``until_s`` (double blinks give two close starts)."""
        self._blinks.upto(until_s)
        return [s for s in self._blinks.starts if s < until_s]

    def brow(self, t_s: float) -> float:
        """0..1 brow raise events (used while speaking)."""
        value = 0.0
        for start, extra in self._brows.around(t_s, 1.0):
            length = 0.5 + 0.4 * extra
            x = (t_s - start) / length
            if 0 <= x <= 1:
                value = max(value, (0.35 + 0.45 * extra) * math.sin(math.pi * x) ** 2)
        return value

    def head_pose(self, t_s: float, *, speaking: float = 0.0) -> HeadPose:
        """The pose at ``t_s`` seconds. ``speaking`` (0..1) makes the head livelier and the brows
        expressive; pass a smoothed envelope (see :func:`smooth_activity`), not a hard switch."""
        talk = min(max(speaking, 0.0), 1.0)
        breath = self.breath(t_s)
        closure = self.blink(max(t_s, 0.0))
        return HeadPose(
            dx_px=self.px * (self._dx(t_s) + talk * self._talk_dx(t_s)),
            dy_px=self.px * (self._dy(t_s) + talk * self._talk_dy(t_s) - 0.5 * breath),
            roll_deg=self._roll(t_s) + talk * self._talk_roll(t_s),
            scale=1.0 + 0.003 * breath,
            blink_left=closure,
            blink_right=closure,
            brow=talk * self.brow(max(t_s, 0.0)),
        )

    @property
    def max_offset_px(self) -> float:
        """Largest |dx| or |dy| this motion can produce (speaking included)."""
        dx = self._dx.bound + self._talk_dx.bound
        dy = self._dy.bound + self._talk_dy.bound + 0.5
        return self.px * max(dx, dy)

    @property
    def max_roll_deg(self) -> float:
        return self._roll.bound + self._talk_roll.bound


def _blink_interval(rng: np.random.Generator) -> float:
    if rng.uniform() < 0.1:  # a double blink
        return float(rng.uniform(0.32, 0.45))
    return float(np.clip(2.0 + rng.gamma(2.2, 0.8), 2.0, 6.5))


def _brow_interval(rng: np.random.Generator) -> float:
    return float(rng.uniform(2.5, 6.0))


def smooth_activity(
    values: np.ndarray, fps: float, *, attack_s: float = 0.12, release_s: float = 0.5, initial: float = 0.0
) -> np.ndarray:
    """Smooth a per-frame speaking activity (0..1) into an envelope for ``speaking=``: rises in about
    ``attack_s``, falls in about ``release_s``, so head motion never jumps. ``initial`` is the level
    before the first value (the last output of the previous piece, when smoothing piece by piece)."""
    out = np.empty(len(values), dtype=np.float32)
    up = 1.0 - math.exp(-1.0 / max(attack_s * fps, 1e-6))
    down = 1.0 - math.exp(-1.0 / max(release_s * fps, 1e-6))
    level = float(initial)
    for i, target in enumerate(np.clip(values, 0.0, 1.0)):
        level += (float(target) - level) * (up if target > level else down)
        out[i] = level
    return out
