"""Read an MP4 back: stream facts, decoded frames, decoded audio (for tests and benchmarks)."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import av.error
import numpy as np
import numpy.typing as npt
from av.audio.resampler import AudioResampler

from neura.encode.yuv import yuv_frame_to_rgb
from neura.errors import InputError


@dataclass(frozen=True)
class MediaInfo:
    video_codec: str | None
    audio_codec: str | None
    width: int
    height: int
    fps: float
    n_frames: int
    video_duration_s: float
    audio_duration_s: float
    audio_sample_rate_hz: int
    faststart: bool


def _open(path: str | os.PathLike[str]) -> av.container.InputContainer:
    try:
        return av.open(str(path), "r")
    except (OSError, av.error.FFmpegError) as exc:
        raise InputError(f"Cannot read the media file {path}: {exc}") from exc


def top_level_atoms(path: str | os.PathLike[str]) -> list[str]:
    """Types of the top-level MP4 boxes, in file order (``ftyp``, ``moov``, ``mdat`` ...)."""
    atoms: list[str] = []
    size_total = Path(path).stat().st_size
    with open(path, "rb") as f:
        offset = 0
        while offset + 8 <= size_total:
            f.seek(offset)
            size, kind = struct.unpack(">I4s", f.read(8))
            if size == 1:
                (size,) = struct.unpack(">Q", f.read(8))
            elif size == 0:
                size = size_total - offset
            if size < 8:
                break
            atoms.append(kind.decode("latin-1"))
            offset += size
    return atoms


def is_faststart(path: str | os.PathLike[str]) -> bool:
    """True when the ``moov`` box (the index) precedes ``mdat`` (the media), so playback can start
    before the whole file has been downloaded."""
    atoms = top_level_atoms(path)
    return "moov" in atoms and "mdat" in atoms and atoms.index("moov") < atoms.index("mdat")


def probe(path: str | os.PathLike[str]) -> MediaInfo:
    """Codecs, size, rate, frame count and durations from the container (no decoding)."""
    with _open(path) as container:
        video = container.streams.video[0] if container.streams.video else None
        audio = container.streams.audio[0] if container.streams.audio else None
        info = MediaInfo(
            video_codec=video.codec_context.name if video else None,
            audio_codec=audio.codec_context.name if audio else None,
            width=video.codec_context.width if video else 0,
            height=video.codec_context.height if video else 0,
            fps=float(video.average_rate) if video and video.average_rate else 0.0,
            n_frames=int(video.frames) if video else 0,
            video_duration_s=_duration_s(video),
            audio_duration_s=_duration_s(audio),
            audio_sample_rate_hz=audio.codec_context.sample_rate if audio else 0,
            faststart=is_faststart(path),
        )
    return info


def _duration_s(stream: av.stream.Stream | None) -> float:
    if stream is None or stream.duration is None or stream.time_base is None:
        return 0.0
    return float(stream.duration * stream.time_base)


def decode_frames(path: str | os.PathLike[str], every_nth: int = 1) -> Iterator[tuple[float, npt.NDArray[np.uint8]]]:
    """Yield ``(time_s, rgb)`` for every ``every_nth`` decoded video frame."""
    if every_nth < 1:
        raise InputError(f"every_nth must be >= 1, got {every_nth}")
    with _open(path) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index % every_nth == 0:
                yield (float(frame.time or 0.0), yuv_frame_to_rgb(frame))


def decode_audio(path: str | os.PathLike[str]) -> tuple[npt.NDArray[np.float32], int]:
    """All audio as float32 mono and its sample rate (encoder priming already removed)."""
    with _open(path) as container:
        if not container.streams.audio:
            return np.zeros(0, np.float32), 0
        stream = container.streams.audio[0]
        rate_hz = stream.codec_context.sample_rate
        n_samples = round(_duration_s(stream) * rate_hz) or None  # drops the last frame's padding
        resampler = AudioResampler(format="flt", layout="mono", rate=rate_hz)
        parts = [
            out.to_ndarray().reshape(-1) for frame in container.decode(audio=0) for out in resampler.resample(frame)
        ]
        parts.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(None))
    samples = np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)
    return samples[:n_samples], rate_hz
