"""JPEG thumbnails and posters (the still a player shows before playback starts)."""

from __future__ import annotations

import io
import os

import numpy as np
import numpy.typing as npt
from PIL import Image

from neura.encode.atomic import write_bytes_atomic
from neura.encode.probe import decode_frames
from neura.errors import InputError


def jpeg_bytes(rgb: npt.ArrayLike, *, max_width: int = 640, quality: int = 85) -> bytes:
    """An RGB uint8 (H, W, 3) image as JPEG bytes, scaled down (never up) to ``max_width``."""
    array = np.asarray(rgb)
    if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
        raise InputError(f"Expected an RGB uint8 image (H, W, 3), got {array.shape} {array.dtype}")
    image = Image.fromarray(array)
    if image.width > max_width:
        height = max(1, round(image.height * max_width / image.width))
        image = image.resize((max_width, height), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality, optimize=True)
    return buffer.getvalue()


def save_thumbnail(
    rgb: npt.ArrayLike, path: str | os.PathLike[str], *, max_width: int = 640, quality: int = 85
) -> None:
    """Save an RGB frame as a JPEG (written atomically; :class:`OutputError` on failure)."""
    write_bytes_atomic(path, jpeg_bytes(rgb, max_width=max_width, quality=quality), "thumbnail")


def save_poster(
    video_path: str | os.PathLike[str],
    path: str | os.PathLike[str],
    *,
    at_s: float = 0.0,
    max_width: int = 1280,
    quality: int = 85,
) -> None:
    """Save the video's frame at ``at_s`` (the first frame at or after it; the last frame if the
    video is shorter) as a JPEG poster, at up to the video's own width."""
    chosen: npt.NDArray[np.uint8] | None = None
    for time_s, rgb in decode_frames(video_path):
        chosen = rgb
        if time_s >= at_s - 1e-6:
            break
    if chosen is None:
        raise InputError(f"The video {video_path} has no frames to make a poster from")
    save_thumbnail(chosen, path, max_width=max_width, quality=quality)
