"""The mouth interior of one frame: the rig's four mouth layers warped and composited between the lips.

Per frame, on the small box around the moved inner-lip polygon: each layer is moved rigidly (one
``cv2.warpAffine``: the head's motion, plus the jaw's drop for the lower teeth and tongue, plus the
tip's rise for l/n/t/d/th), the layers are alpha-blended back to front (cavity, tongue tip, jaw,
upper teeth), shaded by the lips (the upper lip's shadow on the teeth, the dark corners, the wet inner
lip along both edges, less light through a small opening). The result is an :class:`Overlay` (the
painted box and the polygon's anti-aliased coverage): it depends only on the rig and the pose, never
on the warped frame, so the CPU warp blends it with OpenCV and the torch renderer on its device.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from neura.avatar import landmarks as lm
from neura.avatar.mouth_interior import MouthPalette, Overlay, coverage, edges, interior_box

F32 = npt.NDArray[np.float32]
RGB = npt.NDArray[np.uint8]

_N_UPPER = len(lm.INNER_LIP_UPPER)


@dataclass(frozen=True)
class InteriorPose:
    """What the interior needs of a frame, besides the lips' polygon."""

    affine: npt.NDArray[np.float64]  # (2, 3): rig pixels at rest -> frame pixels (the head's motion)
    opening: float  # the open field's strength (0 .. 1)
    round: float
    tongue: float
    gap_share: float  # the lips' gap in the middle over the widest gap (0 .. 1)


def _warp(layer: npt.NDArray[np.uint8], affine: npt.NDArray[np.float64], origin: tuple[float, float],
          box: tuple[int, int, int, int]) -> npt.NDArray[np.uint8]:  # fmt: skip
    """``layer`` (whose pixel (0, 0) is rig pixel ``origin``) moved by ``affine`` into ``box``."""
    a = affine[:, :2]
    offset: npt.NDArray[np.float64] = a @ np.array(origin, np.float64) + affine[:, 2] - np.array(box[:2], np.float64)
    m = np.hstack([a, offset[:, None]])
    size = (box[2] - box[0], box[3] - box[1])
    moved = cv2.warpAffine(layer, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(0,))
    return np.asarray(moved, np.uint8)


def _over(base: RGB, layer: npt.NDArray[np.uint8], amount: float = 1.0) -> RGB:
    """``layer`` (RGBA, straight alpha) over ``base`` (RGB). OpenCV's blends: numpy's broadcasting over a
    trailing axis of 3 is several times slower on boxes this small."""
    a = layer[..., 3].astype(np.float32) * np.float32(amount / 255.0)
    rgb = cv2.cvtColor(layer, cv2.COLOR_RGBA2RGB)
    return np.asarray(cv2.blendLinear(rgb, base, a, 1.0 - a), np.uint8)


def _cavity(layer: npt.NDArray[np.uint8], affine: npt.NDArray[np.float64], origin: tuple[float, float],
            box: tuple[int, int, int, int]) -> RGB:  # fmt: skip
    """The cavity layer under ``box``: it is smooth, so the nearest whole-pixel position will do (a
    slice, not a warp); a warp only if the box reaches past the layer."""
    inverse = cv2.invertAffineTransform(affine)
    lx = round(float(inverse[0, 0] * box[0] + inverse[0, 1] * box[1] + inverse[0, 2]) - origin[0])
    ly = round(float(inverse[1, 0] * box[0] + inverse[1, 1] * box[1] + inverse[1, 2]) - origin[1])
    h, w = box[3] - box[1], box[2] - box[0]
    if min(lx, ly) >= 0 and ly + h <= layer.shape[0] and lx + w <= layer.shape[1]:
        return np.asarray(cv2.cvtColor(layer[ly : ly + h, lx : lx + w], cv2.COLOR_RGBA2RGB), np.uint8)
    return np.asarray(cv2.cvtColor(_warp(layer, affine, origin, box), cv2.COLOR_RGBA2RGB), np.uint8)


def interior_overlay(
    shape: tuple[int, ...],
    loop: F32,
    layers: npt.NDArray[np.uint8],
    layer_box: tuple[int, int, int, int],
    layer_motion: F32,
    palette: MouthPalette,
    pose: InteriorPose,
    mouth_width_px: float,
) -> Overlay | None:
    """The mouth interior inside the inner-lip polygon ``loop`` (frame pixels) of a frame of ``shape``:
    painted from the rig's layers alone (never from the frame), so any renderer can blend it in."""
    box = interior_box(loop, shape)
    if box is None:
        return None
    alpha = coverage(loop, box)
    origin = (float(layer_box[0]), float(layer_box[1]))
    jaw = layer_motion[0] * np.float32(pose.opening)
    tip = jaw * np.float32(1.0 - pose.tongue) + layer_motion[1] * np.float32(pose.tongue)

    def moved(index: int, shift: F32 | None = None) -> npt.NDArray[np.uint8]:
        start = origin if shift is None else (origin[0] + float(shift[0]), origin[1] + float(shift[1]))
        return _warp(layers[index], pose.affine, start, box)

    colour = _cavity(layers[0], pose.affine, origin, box)
    colour = _over(colour, moved(1, jaw))
    colour = _over(colour, moved(3), 1.0 - 0.55 * pose.round)
    if pose.tongue > 0.01:  # the tip comes forward between the teeth (th), or up under them (l, n, t, d)
        colour = _over(colour, moved(2, tip), min(1.0, 4.0 * pose.tongue))

    # the lips' light and shade, from the polygon's edges per column
    x0, y0, x1, y1 = box
    xs = np.arange(x0, x1, dtype=np.float32)
    ys = np.arange(y0, y1, dtype=np.float32)[:, None]
    top, bottom = edges(loop, _N_UPPER, xs)
    w = np.float32(max(mouth_width_px / 2.0, 4.0))
    below_top = np.maximum(ys - top, 0.0)
    above_bottom = np.maximum(bottom - ys, 0.0)
    left, right = float(loop[0, 0]), float(loop[_N_UPPER - 1, 0])
    half = max((right - left) / 2.0, 2.0)
    across = np.abs(xs - np.float32((left + right) / 2.0)) / np.float32(half)
    corners = 1.0 - 0.55 * np.clip((across - 0.55) / 0.45, 0.0, 1.0) ** 2
    light = 0.62 + 0.38 * min(1.0, 1.6 * pose.gap_share)  # a small opening lets little light in
    shade = (1.0 - 0.45 * np.exp(-below_top / (0.07 * w))) * corners * np.float32(light * (1.0 - 0.3 * pose.round))
    wet = 0.55 * np.maximum(np.exp(-below_top / (0.02 * w)), np.exp(-above_bottom / (0.045 * w))) * corners
    # colour * shade, then the wet inner lip over it: one blend with the lip's colour and black
    lip = np.empty_like(colour)
    lip[:] = np.clip(palette.lip_inner * np.float32(light), 0, 255).astype(np.uint8)
    keep = (shade * (1.0 - wet)).astype(np.float32)
    wet = wet.astype(np.float32)
    black = np.zeros_like(colour)
    painted = cv2.add(cv2.blendLinear(colour, black, keep, 1.0 - keep), cv2.blendLinear(lip, black, wet, 1.0 - wet))
    return Overlay(box, np.asarray(painted, np.uint8), alpha)
