"""The CPU renderer: the seam (:mod:`neura.render.seam`) around the numpy/OpenCV warp of :mod:`.cpu`.

Its asset is the :class:`~neura.avatar.AvatarRig` (kind ``rig``: stored with the avatar as ``.npz``).
A stream renders a batch as a loop over frames into buffers it reuses, so only the ROI of each frame
is rewritten (the static part stays from the batch before).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from neura.avatar import IdleMotion
from neura.avatar.rig import AvatarRig, build_avatar, save_bytes
from neura.media import MOUTH_CLOSED, HeadPose, MouthPose
from neura.render.cpu import CpuBackend
from neura.render.seam import Image, RenderAsset, RenderStream, at_rest


def as_rig(asset: RenderAsset) -> AvatarRig:
    if not isinstance(asset, AvatarRig):
        raise TypeError(f"this renderer draws from an AvatarRig, not a {type(asset).__name__}")
    return asset


class RigRenderer:
    """What every renderer of the ``rig`` asset kind shares: preparing, storing and loading rigs."""

    asset_kind = "rig"

    def prepare(self, photo: Image, *, size_px: int, name: str = "the photo") -> AvatarRig:
        return build_avatar(photo, size_px=size_px, name=name)

    def dump_asset(self, asset: RenderAsset) -> bytes:
        return save_bytes(as_rig(asset))

    def load_asset(self, data: bytes) -> AvatarRig:
        return AvatarRig.load(io.BytesIO(data))  # RigLoadError (a ValueError): outdated or unreadable


class CpuStream(RenderStream):
    def __init__(self, rig: AvatarRig, warp: CpuBackend, **options: Any) -> None:
        super().__init__(rig, **options)
        self.rig = rig
        self.warp = warp
        # buffers reused batch after batch: the warp rewrites only their ROI (the rest stays the rig's)
        n, size = self.batch_frames, rig.size_px
        self._rgb = [np.empty_like(rig.image) for _ in range(n)]
        self._i420 = [np.empty((size * 3 // 2, size), np.uint8) for _ in range(n)] if self.output == "i420" else []

    def _render(self, mouths: Sequence[MouthPose], heads: Sequence[HeadPose]) -> Sequence[Image]:
        images: list[Image] = []
        for i, (mouth, head) in enumerate(zip(mouths, heads, strict=True)):
            if i >= len(self._rgb):  # a batch larger than the stream's: fresh arrays for the rest
                images.append(self._convert(self.warp.render(self.rig, mouth, head), None))
            else:
                rgb = self.warp.render(self.rig, mouth, head, out=self._rgb[i])
                images.append(self._convert(rgb, self._i420[i] if self._i420 else None))
        return images

    def _convert(self, rgb: Image, out: Image | None) -> Image:
        if self.output == "rgb":
            return rgb
        # OpenCV's BT.601 limited-range conversion (what WebRTC decoders assume), 4x faster than swscale
        return np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420, dst=out), np.uint8)


class CpuRenderer(RigRenderer):
    """The numpy/OpenCV warp on the calling threads (one core per stream; thread-safe)."""

    name = "cpu"
    device = "cpu"

    def __init__(self) -> None:
        self.warp = CpuBackend()

    def stream(self, asset: RenderAsset, **options: Any) -> CpuStream:
        return CpuStream(as_rig(asset), self.warp, **options)

    def still(self, asset: RenderAsset, *, seed: int = 0) -> Image:
        rig = as_rig(asset)
        head = at_rest(IdleMotion(seed, size_px=rig.size_px).head_pose(0.0))
        return self.warp.render(rig, MOUTH_CLOSED, head)
