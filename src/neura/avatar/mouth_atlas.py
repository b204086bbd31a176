"""The mouth interior as a small precomputed atlas, so a frame pays one tiny remap instead of ~90
numpy calls.

The reference painter (:func:`neura.avatar.mouth_interior.paint_interior`) is run once per rig for a
ladder of openings, with the teeth fully shown and mostly hidden (rounded lips), and each result is
unwarped into a canonical rectangle: columns run across the mouth (in mouth half-widths from its
middle), rows from the upper lip's edge (0) to the lower lip's (1). Per frame the two nearest levels
are mixed and warped back into the moved inner-lip polygon.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from neura.avatar import landmarks as lm
from neura.avatar.mouth_interior import MouthPalette, coverage, edges, interior_box, paint_interior

F32 = npt.NDArray[np.float32]
RGB = npt.NDArray[np.uint8]

LEVELS = 12  # openings 0 .. 1
ROWS = 32  # upper lip .. lower lip
SPAN = 1.3  # columns cover -SPAN .. SPAN mouth half-widths
TEETH_SHOW = (1.0, 0.3)  # lips relaxed / fully rounded
_N_UPPER = len(lm.INNER_LIP_UPPER)


@dataclass(frozen=True)
class InteriorAtlas:
    textures: npt.NDArray[np.uint8]  # (len(TEETH_SHOW), LEVELS, ROWS, columns, 3)
    half_width_px: float

    @property
    def columns(self) -> int:
        return int(self.textures.shape[3])


def build_atlas(
    lip_points: F32, lip_motion: F32, teeth_points: F32, palette: MouthPalette, mouth_width_px: float
) -> InteriorAtlas:
    """Paint the interior at each opening level (head at rest) and unwarp it into the atlas."""
    half_w = max(mouth_width_px / 2, 4.0)
    columns = max(16, round(2 * SPAN * half_w))
    textures = np.zeros((len(TEETH_SHOW), LEVELS, ROWS, columns, 3), np.uint8)
    for v, show in enumerate(TEETH_SHOW):
        for k in range(LEVELS):
            opening = max(k / (LEVELS - 1), 0.04)  # the closed level still needs a painted gap
            coefs = np.array([1.0, opening, 0.0, 0.0, 0.0], np.float32)
            loop = (lip_points + np.tensordot(coefs, lip_motion, axes=1)).astype(np.float32)
            shape = (int(loop[:, 1].max() + 8), int(loop[:, 0].max() + 8))
            box = interior_box(loop, shape)
            if box is None:
                continue
            colour = paint_interior(loop, teeth_points, palette, opening, mouth_width_px, show, box)
            textures[v, k] = _unwarp(colour, loop, box, half_w, columns)
    return InteriorAtlas(textures, half_w)


def _unwarp(colour: F32, loop: F32, box: tuple[int, int, int, int], half_w: float, columns: int) -> RGB:
    x0, y0, _, _ = box
    centre = float(loop[:, 0].mean())
    dx = np.linspace(-SPAN, SPAN, columns, dtype=np.float32)
    xs = centre + dx * np.float32(half_w)
    top, bottom = edges(loop, _N_UPPER, xs)
    t = np.linspace(0.0, 1.0, ROWS, dtype=np.float32)[:, None]
    map_y = (top + t * np.maximum(bottom - top, np.float32(0.5)) - y0 - 0.5).astype(np.float32)
    map_x = np.repeat((xs - x0 - 0.5)[None, :], ROWS, axis=0).astype(np.float32)
    texture = cv2.remap(colour, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return np.clip(texture, 0, 255).astype(np.uint8)


def draw_interior(out: RGB, loop: F32, atlas: InteriorAtlas, openness: float, roundness: float) -> None:
    """Warp the atlas (mixed for this opening and rounding) into the polygon ``loop``, in place."""
    box = interior_box(loop, out.shape)
    if box is None:
        return
    alpha = coverage(loop, box)
    x0, y0, x1, y1 = box
    level = min(max(openness, 0.0), 1.0) * (LEVELS - 1)
    k = min(int(level), LEVELS - 2)
    frac = level - k
    texture = _mix(atlas.textures[0], k, frac)
    if roundness > 0.01:
        rounded = _mix(atlas.textures[1], k, frac)
        texture = np.asarray(cv2.addWeighted(texture, 1.0 - roundness, rounded, roundness, 0.0), np.uint8)
    xs = np.arange(x0, x1, dtype=np.float32) + np.float32(0.5)
    ys = (np.arange(y0, y1, dtype=np.float32) + np.float32(0.5))[:, None]
    top, bottom = edges(loop, _N_UPPER, xs)
    rows_per_px = np.float32(ROWS - 1) / np.maximum(bottom - top, np.float32(0.5))
    map_y = ((ys - top) * rows_per_px).astype(np.float32)
    centre = float(loop[:, 0].mean())
    col = (xs - centre) * np.float32((atlas.columns - 1) / (2 * SPAN * atlas.half_width_px))
    map_x = np.repeat((col + np.float32((atlas.columns - 1) / 2))[None, :], y1 - y0, axis=0)
    painted = cv2.remap(texture, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    patch = out[y0:y1, x0:x1]
    patch[:] = cv2.blendLinear(painted, patch, alpha, 1.0 - alpha)


def _mix(textures: npt.NDArray[np.uint8], k: int, frac: float) -> RGB:
    if frac < 0.02:
        return np.asarray(textures[k], np.uint8)
    return np.asarray(cv2.addWeighted(textures[k], 1.0 - frac, textures[k + 1], frac, 0.0), np.uint8)
