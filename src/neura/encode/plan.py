"""How an offline render encodes on this machine: which H.264 encoder, in one process or in segments.

* NVENC where it opens (:mod:`neura.encode.h264`): one GPU encoder outruns the renderer, so one process.
* libx264 on few cores: one process whose x264 threads use every core while the renderer works
  (:class:`~neura.encode.background.BackgroundMp4Writer`). On 2 cores parallel segments were no faster
  (``bench/encode_segments.py``, README "Performance"), so they are never chosen there.
* libx264 on many cores and a long video: parallel segments, one process per core but one
  (:class:`~neura.encode.segments.SegmentedMp4Writer`); x264's own threads stop scaling after a few
  cores (issue 10's GPU machine: 100 fps at 720p in one process with 16 threads, 945 fps in 16).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from neura.encode.background import BackgroundMp4Writer
from neura.encode.h264 import H264Choice, H264Codec, pick_h264
from neura.encode.segments import SegmentedMp4Writer, segment_frames

SegmentsChoice = Literal["auto", "on", "off"]
VideoWriter = BackgroundMp4Writer | SegmentedMp4Writer

SEGMENT_MIN_CORES = 6
"""Fewest cores on which ``auto`` encodes in segments: with a core kept for the renderer and the voice,
at least five encoder processes, where x264's frame threads in one process have stopped scaling."""
SEGMENT_MIN_VIDEO_S = 20.0
"""Shortest (expected) video ``auto`` encodes in segments: below it the workers' start (about half a
second each, in parallel) and the last segment's tail outweigh what the cores gain."""


@dataclass(frozen=True)
class EncodePlan:
    codec: H264Codec
    workers: int  # 0: one process; otherwise parallel segments in this many worker processes
    segment_s: float = 2.0


def usable_cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def plan_encoding(
    *,
    encoder: H264Choice,
    segments: SegmentsChoice,
    workers: int,
    segment_s: float,
    expected_duration_s: Callable[[], float],
    cores: int | None = None,
) -> EncodePlan:
    """The plan for these settings (``VIDEO_ENCODER``, ``ENCODE_SEGMENTS``, ``ENCODE_WORKERS``,
    ``ENCODE_SEGMENT_S``). ``expected_duration_s`` is asked only where ``auto`` could choose segments."""
    codec = pick_h264(encoder)
    cores = cores or usable_cores()
    n_workers = workers or max(1, cores - 1)
    if segments == "on":
        return EncodePlan(codec, n_workers, segment_s)
    if segments == "off" or codec != "libx264" or cores < SEGMENT_MIN_CORES:
        return EncodePlan(codec, 0, segment_s)
    if expected_duration_s() < SEGMENT_MIN_VIDEO_S:
        return EncodePlan(codec, 0, segment_s)
    return EncodePlan(codec, n_workers, segment_s)


def shared_memory_free_bytes() -> int:
    """Free room for frame slots (POSIX shared memory lives in /dev/shm; a container may give it 64 MB)."""
    try:
        return shutil.disk_usage("/dev/shm").free
    except OSError:
        return 0


def workers_that_fit(workers: int, slot_bytes: int, free_bytes: int) -> int:
    """As many of ``workers`` as shared memory holds slots for (``workers + 1`` slots): 0 if not one."""
    return max(0, min(workers, free_bytes // max(1, slot_bytes) - 1))


def open_mp4_writer(
    path: Path, plan: EncodePlan, *, width: int, height: int, fps: float, **options: Any
) -> VideoWriter:
    """A writer that follows ``plan``; ``options`` are :class:`~neura.encode.mp4.Mp4Writer`'s (in
    segments x264 runs one thread per worker process, whatever ``threads`` says). Segments get fewer
    workers, or none, where shared memory cannot hold their frames (an RGB slot, the larger kind)."""
    slot_bytes = width * height * 3 * segment_frames(fps, plan.segment_s)
    workers = workers_that_fit(plan.workers, slot_bytes, shared_memory_free_bytes()) if plan.workers else 0
    if workers:
        options = {**options, "threads": 1}
        return SegmentedMp4Writer(
            path,
            width=width,
            height=height,
            fps=fps,
            workers=workers,
            segment_s=plan.segment_s,
            codec=plan.codec,
            **options,
        )
    return BackgroundMp4Writer(path, width=width, height=height, fps=fps, codec=plan.codec, **options)
