"""A fake renderer: the seam's contract without a face. Its asset is a plain picture; a frame is that
picture with the ROI filled by a grey level that shows the mouth's opening and the head's sway, so a
test can read the pose back from the pixels. Fast (no landmarks, no warp): for tests of what *uses*
a renderer (streams, tracks, sessions)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from neura.media import HeadPose, MouthPose
from neura.render.seam import RenderAsset, RenderStream

Image = npt.NDArray[np.uint8]


@dataclass(eq=False)
class FakeAsset:
    size_px: int
    image: Image
    roi: tuple[int, int, int, int]
    warnings: list[str] = field(default_factory=list)


def grey_of(mouth: MouthPose, head: HeadPose) -> int:
    """The ROI's level for a pose: 60 + 150 x opening, plus the head's sway and blinks."""
    return int(np.clip(60 + 150 * mouth.open + 30 * (head.dx_px + head.dy_px) + 40 * head.blink_left, 0, 255))


class FakeStream(RenderStream):
    def __init__(self, asset: FakeAsset, **options: Any) -> None:
        super().__init__(asset, **options)
        self.fake = asset
        self.batches: list[int] = []  # the size of every batch rendered

    def _render(self, mouths: Sequence[MouthPose], heads: Sequence[HeadPose]) -> Sequence[Image]:
        self.batches.append(len(mouths))
        x0, y0, x1, y1 = self.fake.roi
        images = []
        for mouth, head in zip(mouths, heads, strict=True):
            rgb = self.fake.image.copy()
            rgb[y0:y1, x0:x1] = grey_of(mouth, head)
            images.append(rgb if self.output == "rgb" else np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420)))
        return images


class FakeRenderer:
    name = "fake"
    asset_kind = "fake"
    device = "cpu"

    def prepare(self, photo: Image, *, size_px: int, name: str = "the photo") -> FakeAsset:
        image = np.asarray(cv2.resize(photo, (size_px, size_px), interpolation=cv2.INTER_AREA), np.uint8)
        q = size_px // 4
        return FakeAsset(size_px, image, (q, q, 3 * q, 3 * q))

    def dump_asset(self, asset: RenderAsset) -> bytes:
        buffer = io.BytesIO()
        np.savez(buffer, image=asset.image, roi=np.array(asset.roi))
        return buffer.getvalue()

    def load_asset(self, data: bytes) -> FakeAsset:
        with np.load(io.BytesIO(data)) as arrays:
            image, roi = arrays["image"], [int(v) for v in arrays["roi"]]
        return FakeAsset(int(image.shape[0]), image, (roi[0], roi[1], roi[2], roi[3]))

    def stream(self, asset: RenderAsset, **options: Any) -> FakeStream:
        assert isinstance(asset, FakeAsset)
        return FakeStream(asset, **options)

    def still(self, asset: RenderAsset, *, seed: int = 0) -> Image:
        return asset.image.copy()
