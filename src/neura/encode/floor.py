"""The encode-only floor: how fast frames go through :class:`Mp4Writer` when nothing renders them.

The render benchmark compares its frame rate with this floor (same frame count, size and encoder
settings). Frames are prepared before the clock starts: a static portrait with a moving, changing
300x300 region around the face (a talking-head-like scene), or random noise as the worst case.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
import numpy.typing as npt

from neura.encode.mp4 import Mp4Writer
from neura.encode.yuv import check_even_size, rgb_to_i420

Scene = Literal["talking_head", "noise"]
InputFormat = Literal["i420", "rgb"]
REGION_PX = 300


def _portrait(width: int, height: int) -> npt.NDArray[np.uint8]:
    """The public-domain astronaut portrait that ships with scikit-image, stretched to the frame."""
    from skimage.data import astronaut  # imported here: only the benchmark scene needs it

    return np.asarray(cv2.resize(astronaut(), (width, height), interpolation=cv2.INTER_AREA), np.uint8)


def synthetic_frames(
    width: int, height: int, n_frames: int, *, scene: Scene = "talking_head", seed: int = 0
) -> list[npt.NDArray[np.uint8]]:
    """``n_frames`` RGB frames, like a talking head or as random noise (the worst case).

    The talking head is a static portrait in which a 300x300 region around the face is re-warped
    every frame (a small sway and tilt, as the renderer's head motion) and a "mouth" opens and
    closes in it.
    """
    check_even_size(width, height)
    rng = np.random.default_rng(seed)
    if scene == "noise":
        return [rng.integers(0, 256, (height, width, 3), dtype=np.uint8) for _ in range(n_frames)]
    background = _portrait(width, height)
    size = min(REGION_PX, width - 20, height - 20)
    # the face of the portrait is centred at about (0.445, 0.25) of the image, its mouth at (0.44, 0.285)
    top = min(max(0, round(0.25 * height) - size // 2), height - size)
    left = min(max(0, round(0.445 * width) - size // 2), width - size)
    mouth_xy = (round(0.44 * width) - left, round(0.285 * height) - top)
    region = background[top : top + size, left : left + size]
    frames = []
    for i in range(n_frames):
        phase = 2 * np.pi * i / 50
        matrix = np.asarray(cv2.getRotationMatrix2D((size / 2, size / 2), 2.0 * np.sin(phase), 1.0), np.float64)
        matrix[:, 2] += (3.0 * np.cos(phase), 2.0 * np.sin(phase))
        moved = cv2.warpAffine(region, matrix, (size, size), borderMode=cv2.BORDER_REFLECT)
        opening_px = max(1, round(height * 0.012 * abs(np.sin(3 * phase))))
        cv2.ellipse(moved, mouth_xy, (max(2, width // 50), opening_px), 0, 0, 360, (90, 30, 40), -1)
        frame = background.copy()
        frame[top : top + size, left : left + size] = moved
        frames.append(frame)
    return frames


def encode_floor(
    n_frames: int,
    width: int,
    height: int,
    fps: float = 25,
    *,
    input_format: InputFormat = "i420",
    scene: Scene = "talking_head",
    distinct_frames: int = 50,
    **writer_options: Any,
) -> dict[str, Any]:
    """Encode ``n_frames`` prepared frames (cycling through ``distinct_frames`` of them) with the
    given :class:`Mp4Writer` options (``crf``, ``preset``, ``threads``, ``audio_sample_rate_hz`` ...)
    and return ``{"seconds", "fps", "cpu_seconds", "n_frames", "width", "height", "bytes", ...}``.

    ``cpu_seconds`` is this process's CPU time over all threads: less disturbed by other load on the
    machine than the wall-clock ``seconds``. Audio, when the writer has it, is a quiet tone written
    alongside the frames, as the pipeline does.
    """
    rgb = synthetic_frames(width, height, min(n_frames, distinct_frames), scene=scene)
    frames = [rgb_to_i420(f) for f in rgb] if input_format == "i420" else rgb
    audio_rate_hz = writer_options.get("audio_sample_rate_hz", 48000)
    samples_per_frame = round(audio_rate_hz / fps) if audio_rate_hz else 0
    tone = (0.1 * np.sin(2 * np.pi * 220 * np.arange(samples_per_frame) / max(audio_rate_hz or 1, 1))).astype(
        np.float32
    )
    with tempfile.TemporaryDirectory(prefix="neura-floor-") as folder:
        path = Path(folder) / "floor.mp4"
        started, started_cpu = time.perf_counter(), time.process_time()
        with Mp4Writer(path, width=width, height=height, fps=fps, **writer_options) as writer:
            for i in range(n_frames):
                writer.write_frame(frames[i % len(frames)])
                if samples_per_frame:
                    writer.write_audio(tone, audio_rate_hz)
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - started_cpu
        size_bytes = path.stat().st_size
    return {
        "seconds": seconds,
        "fps": n_frames / seconds if seconds > 0 else float("inf"),
        "cpu_seconds": cpu_seconds,
        "n_frames": n_frames,
        "width": width,
        "height": height,
        "bytes": size_bytes,
        "input_format": input_format,
        "scene": scene,
        **writer_options,
    }
