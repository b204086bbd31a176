"""Real media for the encode tests: small frames and a tone, written and decoded back."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from neura.encode import Mp4Writer, rgb_to_i420

FPS = 25
WIDTH, HEIGHT = 320, 240
TONE_HZ = 440.0
TONE_RATE_HZ = 22050


def scene_frames(n_frames: int, width: int = WIDTH, height: int = HEIGHT) -> list[npt.NDArray[np.uint8]]:
    """Smooth coloured frames with a moving, colour-changing square."""
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([80 + 120 * x / width, 60 + 140 * y / height, 170 - 80 * x / width], axis=-1)
    frames = []
    for i in range(n_frames):
        frame = base.copy()
        left, top = 20 + 4 * i % (width - 80), 40 + 2 * i % (height - 80)
        frame[top : top + 60, left : left + 60] = (230, 40 + 4 * i % 200, 60)
        frames.append(frame.astype(np.uint8))
    return frames


def tone(duration_s: float, rate_hz: int = TONE_RATE_HZ, freq_hz: float = TONE_HZ) -> npt.NDArray[np.float32]:
    t = np.arange(round(duration_s * rate_hz)) / rate_hz
    return (0.5 * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def write_clip(path: Path, frames: list[npt.NDArray[np.uint8]], audio: npt.NDArray[np.float32], **options: Any) -> None:
    """Frames and audio interleaved the way the pipeline writes them, audio in odd-sized chunks."""
    with Mp4Writer(path, width=WIDTH, height=HEIGHT, fps=FPS, **options) as writer:
        chunks = np.array_split(audio, len(frames))
        for frame, chunk in zip(frames, chunks, strict=True):
            writer.write_frame(frame)
            writer.write_audio(chunk, TONE_RATE_HZ)


@pytest.fixture(scope="session")
def rgb_frames() -> list[npt.NDArray[np.uint8]]:
    return scene_frames(2 * FPS)


@pytest.fixture(scope="session", params=["rgb", "i420"])
def clip(
    request: pytest.FixtureRequest, rgb_frames: list[npt.NDArray[np.uint8]], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """2 s at 25 fps, 320x240, with a 440 Hz tone, from RGB or from I420 frames."""
    path = tmp_path_factory.mktemp("clip") / f"clip-{request.param}.mp4"
    frames = rgb_frames if request.param == "rgb" else [rgb_to_i420(f) for f in rgb_frames]
    write_clip(path, frames, tone(2.0), threads=1)
    return path


@pytest.fixture
def unwritable_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder no file can be created in (root ignores permissions: then /sys)."""
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    probe = folder / "probe"
    try:
        probe.touch()
    except OSError:
        yield folder
    else:
        probe.unlink()
        sys_dir = Path("/sys")
        if not sys_dir.is_dir() or (os.access(sys_dir, os.W_OK) and _can_create(sys_dir)):
            pytest.skip("no unwritable folder available on this machine")
        yield sys_dir
    finally:
        folder.chmod(0o700)


def _can_create(folder: Path) -> bool:
    try:
        (folder / ".neura-probe").touch()
    except OSError:
        return False
    (folder / ".neura-probe").unlink()
    return True
