"""Which encoder and how many processes a render uses: NVENC only where it really opens, segments only
on many cores and long videos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neura.encode import probe
from neura.encode.background import BackgroundMp4Writer
from neura.encode.h264 import encoder_opens, pick_h264
from neura.encode.plan import (
    SEGMENT_MIN_CORES,
    SEGMENT_MIN_VIDEO_S,
    EncodePlan,
    open_mp4_writer,
    plan_encoding,
    workers_that_fit,
)
from neura.encode.segments import SegmentedMp4Writer
from neura.errors import EngineUnavailableError

NVENC_HERE = encoder_opens("h264_nvenc")


def test_an_encoder_counts_only_when_it_opens_and_encodes() -> None:
    assert encoder_opens("libx264")
    assert not encoder_opens("no_such_encoder")
    assert not encoder_opens("aac")  # opens as an audio encoder only: not a video encoder here


@pytest.mark.skipif(NVENC_HERE, reason="this machine has a working NVENC")
def test_without_nvenc_auto_falls_back_to_libx264_and_writes_h264(tmp_path: Path) -> None:
    """h264_nvenc is compiled into PyAV's wheel, so only opening it tells: here it fails."""
    assert pick_h264("auto") == "libx264"
    plan = plan_encoding(encoder="auto", segments="off", workers=0, segment_s=2.0, expected_duration_s=lambda: 60.0)
    with open_mp4_writer(tmp_path / "out.mp4", plan, width=64, height=64, fps=25) as writer:
        for _ in range(5):
            writer.write_frame(np.zeros((64, 64, 3), np.uint8))
    assert probe(tmp_path / "out.mp4").video_codec == "h264"
    with pytest.raises(EngineUnavailableError, match="NVENC") as caught:
        pick_h264("h264_nvenc")
    assert "VIDEO_ENCODER=auto" in (caught.value.hint or "")


@pytest.mark.skipif(not NVENC_HERE, reason="no working NVENC on this machine")
def test_with_nvenc_auto_takes_it() -> None:
    assert pick_h264("auto") == pick_h264("h264_nvenc") == "h264_nvenc"


def never_asked() -> float:
    raise AssertionError("the video's length was estimated where it could not change the plan")


@pytest.mark.parametrize(
    ("segments", "workers", "cores", "duration_s", "expected_workers"),
    [
        ("auto", 0, 2, None, 0),  # this machine: x264's own threads
        ("auto", 0, SEGMENT_MIN_CORES - 1, None, 0),
        ("auto", 0, 16, SEGMENT_MIN_VIDEO_S - 1, 0),  # too short to pay for the workers
        ("auto", 0, 16, 60.0, 15),  # one process per core but one (the renderer's)
        ("auto", 4, 16, 60.0, 4),
        ("on", 0, 2, None, 1),
        ("on", 2, 2, None, 2),
        ("off", 0, 64, None, 0),
    ],
)
def test_segments_only_on_many_cores_and_long_videos(
    segments: str, workers: int, cores: int, duration_s: float | None, expected_workers: int
) -> None:
    plan = plan_encoding(
        encoder="libx264",
        segments=segments,  # type: ignore[arg-type]
        workers=workers,
        segment_s=4.0,
        expected_duration_s=(lambda: duration_s) if duration_s is not None else never_asked,  # type: ignore[return-value]
        cores=cores,
    )
    assert plan == EncodePlan("libx264", expected_workers, 4.0)


def test_the_writer_follows_the_plan(tmp_path: Path) -> None:
    single = open_mp4_writer(tmp_path / "a.mp4", EncodePlan("libx264", 0), width=64, height=64, fps=25)
    single.abort()
    segmented = open_mp4_writer(tmp_path / "b.mp4", EncodePlan("libx264", 1, 4.0), width=64, height=64, fps=25)
    segmented.abort()
    assert isinstance(single, BackgroundMp4Writer) and isinstance(segmented, SegmentedMp4Writer)
    assert segmented.segment_frames == 100
    assert list(tmp_path.iterdir()) == []


def test_segments_take_only_the_workers_shared_memory_has_slots_for() -> None:
    """Docker gives /dev/shm 64 MB by default: not one 2-second 720p segment (RGB 276 MB)."""
    slot_bytes = 1280 * 720 * 3 * 50
    assert workers_that_fit(15, slot_bytes, 64_000_000) == 0
    assert workers_that_fit(15, slot_bytes, 4 * slot_bytes) == 3  # a slot is kept for the frames coming in
    assert workers_that_fit(4, slot_bytes, 24_000_000_000) == 4
