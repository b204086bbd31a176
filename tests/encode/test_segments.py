"""SegmentedMp4Writer: video encoded in parallel segments by worker processes, joined without
re-encoding. Checked by decoding the joined MP4 and by what is left on disk and in shared memory."""

from __future__ import annotations

import multiprocessing
import os
import signal
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest

from neura.encode import decode_audio, decode_frames, probe
from neura.encode.segments import SegmentedMp4Writer
from neura.errors import EncoderError, InputError
from tests.encode.conftest import FPS, HEIGHT, TONE_HZ, TONE_RATE_HZ, WIDTH, scene_frames, tone
from tests.encode.test_mp4 import psnr_db

N_FRAMES = 130  # 5.2 s: segments of 50, 50 and 30 frames
SHM = Path("/dev/shm")


def shared_memory_names() -> set[str]:
    """Python's shared memory blocks ("psm_" names; PostgreSQL's and others' come and go beside them)."""
    return {p.name for p in SHM.glob("psm_*")} if SHM.is_dir() else set()


def keyframe_indices(path: Path) -> list[int]:
    with av.open(str(path)) as container:
        packets = sorted((p for p in container.demux(video=0) if p.size), key=lambda p: p.pts or 0)
    return [i for i, p in enumerate(packets) if p.is_keyframe]


@pytest.fixture(scope="module")
def frames() -> list[npt.NDArray[np.uint8]]:
    return scene_frames(N_FRAMES)


@pytest.fixture(scope="module")
def joined(tmp_path_factory: pytest.TempPathFactory, frames: list[npt.NDArray[np.uint8]]) -> Path:
    folder = tmp_path_factory.mktemp("segments")
    path = folder / "joined.mp4"
    before = shared_memory_names()
    with SegmentedMp4Writer(path, width=WIDTH, height=HEIGHT, fps=FPS, workers=2, segment_s=2.0) as writer:
        assert writer.segment_frames == 50
        for frame, chunk in zip(frames, np.array_split(tone(N_FRAMES / FPS), N_FRAMES), strict=True):
            writer.write_frame(frame)
            writer.write_audio(chunk, TONE_RATE_HZ)
    assert sorted(p.name for p in folder.iterdir()) == ["joined.mp4"]  # no segment, audio or part file left
    assert shared_memory_names() <= before  # every frame slot unlinked
    return path


def test_the_joined_mp4_has_every_frame_in_order_with_continuous_pts(
    joined: Path, frames: list[npt.NDArray[np.uint8]]
) -> None:
    info = probe(joined)
    assert (info.video_codec, info.audio_codec, info.width, info.height) == ("h264", "aac", WIDTH, HEIGHT)
    assert info.n_frames == N_FRAMES and info.faststart
    assert info.video_duration_s == pytest.approx(N_FRAMES / FPS)
    decoded = list(decode_frames(joined))
    assert [round(t * FPS) for t, _ in decoded] == list(range(N_FRAMES))
    assert np.diff([t for t, _ in decoded]) == pytest.approx(1 / FPS)
    for (_, rgb), original in zip(decoded, frames, strict=True):
        assert psnr_db(rgb, original) > 30  # the right frame in the right place, across every seam


def test_a_keyframe_opens_every_segment(joined: Path) -> None:
    keyframes = keyframe_indices(joined)
    assert {0, 50, 100} <= set(keyframes)


def test_the_audio_is_one_continuous_track_as_long_as_the_video(joined: Path) -> None:
    info = probe(joined)
    assert abs(info.audio_duration_s - info.video_duration_s) <= 1 / FPS
    samples, rate = decode_audio(joined)
    assert abs(len(samples) / rate - N_FRAMES / FPS) <= 1 / FPS
    windows = samples[round(0.04 * rate) : round(5.0 * rate)].reshape(-1, round(0.02 * rate))
    assert np.sqrt(np.mean(windows**2, axis=1)).min() > 0.3  # no gap or click at a seam (2 s, 4 s)
    middle = samples[round(1.5 * rate) : round(2.5 * rate)]
    peak_hz = np.argmax(np.abs(np.fft.rfft(middle * np.hanning(len(middle))))) * rate / len(middle)
    assert peak_hz == pytest.approx(TONE_HZ, abs=2.0)


def test_i420_frames_and_no_audio(tmp_path: Path, frames: list[npt.NDArray[np.uint8]]) -> None:
    from neura.encode import rgb_to_i420

    path = tmp_path / "silent.mp4"
    with SegmentedMp4Writer(path, width=WIDTH, height=HEIGHT, workers=1, audio_sample_rate_hz=None) as writer:
        for frame in frames[:60]:
            writer.write_frame(rgb_to_i420(frame))
        with pytest.raises(InputError, match="shape"):
            writer.write_frame(frame)  # RGB after I420: every frame has the first one's shape
        with pytest.raises(InputError, match="without audio"):
            writer.write_audio(np.zeros(10, np.float32), 16000)
    info = probe(path)
    assert info.audio_codec is None and info.n_frames == 60
    assert psnr_db(next(decode_frames(path))[1], frames[0]) > 30


def test_an_error_in_the_caller_leaves_nothing(tmp_path: Path, frames: list[npt.NDArray[np.uint8]]) -> None:
    before = shared_memory_names()
    target = tmp_path / "out.mp4"
    target.write_bytes(b"previous video")
    with pytest.raises(RuntimeError), SegmentedMp4Writer(target, width=WIDTH, height=HEIGHT, workers=2) as writer:
        for frame in frames[:70]:  # one segment handed to a worker, the next one half full
            writer.write_frame(frame)
        raise RuntimeError("renderer failed")
    assert target.read_bytes() == b"previous video"
    assert list(tmp_path.iterdir()) == [target]
    assert shared_memory_names() <= before


def test_a_killed_worker_fails_the_render_cleanly(tmp_path: Path, frames: list[npt.NDArray[np.uint8]]) -> None:
    before = shared_memory_names()
    target = tmp_path / "out.mp4"
    writer = SegmentedMp4Writer(target, width=WIDTH, height=HEIGHT, workers=2)
    workers = multiprocessing.active_children()
    assert len(workers) == 2
    os.kill(workers[0].pid or 0, signal.SIGKILL)
    with pytest.raises(EncoderError, match="encoder process died") as caught:
        for frame in frames:
            writer.write_frame(frame)
        writer.close()
    assert caught.value.hint and caught.value.exit_code == 73  # an OutputError: a job tries again
    assert list(tmp_path.iterdir()) == []
    assert shared_memory_names() <= before
    assert multiprocessing.active_children() == []
    with pytest.raises(InputError, match="closed"):
        writer.write_frame(frames[0])


def test_nothing_written_is_an_input_error(tmp_path: Path) -> None:
    with (
        pytest.raises(InputError, match="No video frames"),
        SegmentedMp4Writer(tmp_path / "empty.mp4", width=64, height=64, workers=1),
    ):
        pass
    assert list(tmp_path.iterdir()) == []
