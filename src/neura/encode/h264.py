"""Which H.264 encoder this machine has: NVENC where the GPU has one, libx264 everywhere else.

PyAV's wheel has ``h264_nvenc`` compiled in on every machine, so its presence says nothing: an H100
has no NVENC unit, a desktop without an NVIDIA driver has no library, and in both cases
``avcodec_open2`` fails. The only test is to open it and encode a frame, which is done once per
process (cached) and never assumed.
"""

from __future__ import annotations

import functools
from fractions import Fraction
from typing import Literal

import av
import av.error
import numpy as np
from av.video.codeccontext import VideoCodecContext

from neura.errors import EngineUnavailableError

H264Codec = Literal["libx264", "h264_nvenc"]
H264Choice = Literal["auto", "libx264", "h264_nvenc"]

_PROBE_SIZE_PX = 256  # above NVENC's minimum frame size (145x49 on current GPUs)


@functools.cache
def encoder_opens(codec: str) -> bool:
    """True when ``codec`` opens here and encodes one frame (checked once per process)."""
    try:
        ctx = av.CodecContext.create(codec, "w")
        if not isinstance(ctx, VideoCodecContext):
            return False
        ctx.width = ctx.height = _PROBE_SIZE_PX
        ctx.pix_fmt = "yuv420p"
        ctx.time_base = Fraction(1, 25)
        ctx.open()
        frame = av.VideoFrame.from_ndarray(np.zeros((_PROBE_SIZE_PX * 3 // 2, _PROBE_SIZE_PX), np.uint8), "yuv420p")
        frame.pts = 0
        packets = [*ctx.encode(frame), *ctx.encode(None)]
    except (av.error.FFmpegError, ValueError, OSError):  # ValueError: a codec this FFmpeg lacks
        return False
    return len(packets) > 0


def pick_h264(choice: H264Choice = "auto") -> H264Codec:
    """The encoder to use: ``auto`` takes NVENC when it opens here and falls back to libx264;
    naming ``h264_nvenc`` where it does not open is an error (the setting would be silently ignored)."""
    if choice == "libx264":
        return "libx264"
    if encoder_opens("h264_nvenc"):
        return "h264_nvenc"
    if choice == "h264_nvenc":
        raise EngineUnavailableError(
            "VIDEO_ENCODER=h264_nvenc, but NVENC does not open on this machine (no NVIDIA encoder unit or driver)",
            hint="set VIDEO_ENCODER=auto (NVENC where it works, libx264 elsewhere) or VIDEO_ENCODER=libx264",
        )
    return "libx264"


def h264_options(codec: H264Codec, crf: int, preset: str) -> dict[str, str]:
    """Encoder options for a quality comparable across encoders: x264's CRF and preset, or NVENC's
    constant-quality VBR at the same number (its default preset p4, "medium")."""
    if codec == "h264_nvenc":
        return {"rc": "vbr", "cq": str(crf), "b": "0", "preset": "p4"}
    return {"crf": str(crf), "preset": preset}
