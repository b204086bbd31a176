"""IdleMotion: deterministic, order-free, natural blink timing, bounded and never frozen."""

from __future__ import annotations

import itertools
import random

import numpy as np

from neura.avatar import IdleMotion, smooth_activity
from neura.avatar.motion import blink_shape

FPS = 25


def _track(motion: IdleMotion, seconds: float, speaking: float = 0.0) -> list:
    return [motion.head_pose(i / FPS, speaking=speaking) for i in range(int(seconds * FPS))]


def test_same_seed_same_motion_any_order() -> None:
    times = [i / FPS for i in range(500)]
    forward = [IdleMotion(7).head_pose(t, speaking=0.5) for t in times]
    shuffled = times[:]
    random.Random(1).shuffle(shuffled)
    fresh = IdleMotion(7)
    by_time = {t: fresh.head_pose(t, speaking=0.5) for t in shuffled}
    assert forward == [by_time[t] for t in times]
    assert forward != [IdleMotion(8).head_pose(t, speaking=0.5) for t in times]


def test_blinks_come_at_natural_intervals_over_a_minute() -> None:
    for seed in range(5):
        motion = IdleMotion(seed)
        starts = motion.blink_starts(60.0)
        gaps = np.diff(starts)
        assert 9 <= len(starts) <= 30, starts  # 10-20 a minute is typical
        assert gaps.max() < 7.0 and gaps.min() > 0.25
        assert np.mean((gaps >= 2.0) & (gaps <= 6.5)) > 0.75  # mostly 2-6 s, a few double blinks
        closure = np.array([p.blink_left for p in _track(motion, 60)])
        assert closure.max() > 0.85  # blinks close the eyes
        assert 0.02 < np.mean(closure > 0.05) < 0.15  # but the eyes are open most of the time


def test_blink_shape_closes_fast_and_opens_slower() -> None:
    assert blink_shape(-0.01) == 0 and blink_shape(0.5) == 0
    assert blink_shape(0.1) == 1.0
    closing = next(t for t in np.arange(0, 0.3, 0.005) if blink_shape(t) > 0.9)
    opening = next(t for t in np.arange(0.12, 0.4, 0.005) if blink_shape(t) < 0.1)
    assert closing < 0.1 and 0.2 < opening < 0.3


def test_motion_is_bounded() -> None:
    for speaking in (0.0, 1.0):
        poses = _track(IdleMotion(3), 120, speaking)
        dx = np.array([p.dx_px for p in poses])
        dy = np.array([p.dy_px for p in poses])
        roll = np.array([p.roll_deg for p in poses])
        scale = np.array([p.scale for p in poses])
        assert np.abs(dx).max() <= 4.5 and np.abs(dy).max() <= 4.0
        assert np.abs(roll).max() <= 2.5
        assert np.abs(scale - 1).max() <= 0.005
        assert dx.std() > 0.4 and roll.std() > 0.15  # but it does move
    big = IdleMotion(3, size_px=1024)
    assert big.max_offset_px == 2 * IdleMotion(3).max_offset_px


def test_never_frozen() -> None:
    poses = _track(IdleMotion(5), 60)
    for a, b in itertools.pairwise(poses):
        assert (a.dx_px, a.dy_px, a.roll_deg) != (b.dx_px, b.dy_px, b.roll_deg)
    step = np.abs(np.diff([p.dx_px for p in poses]))
    assert step.max() < 0.5  # smooth: under half a pixel per frame


def test_speaking_is_livelier_and_raises_brows() -> None:
    quiet = _track(IdleMotion(2), 60, 0.0)
    talking = _track(IdleMotion(2), 60, 1.0)

    def speed(poses: list) -> float:
        return float(np.mean(np.abs(np.diff([p.dy_px for p in poses]))))

    assert speed(talking) > 2 * speed(quiet)  # small nods
    assert np.std([p.dy_px for p in talking]) > 1.2 * np.std([p.dy_px for p in quiet])
    assert max(p.brow for p in quiet) == 0
    assert max(p.brow for p in talking) > 0.3


def test_smooth_activity_rises_fast_and_falls_slowly() -> None:
    steps = np.r_[np.zeros(10), np.ones(25), np.zeros(50)].astype(np.float32)
    env = smooth_activity(steps, FPS)
    assert env[9] == 0 and env[10 + 5] > 0.8  # 0.2 s after the start
    assert 0.2 < env[35 + 10] < 0.7  # 0.4 s after the end: still fading
    assert np.all(np.abs(np.diff(env)) < 0.35)
