"""The brow warp field and the head mask (see :mod:`neura.avatar.geometry` for conventions).

A brow raise lifts both brows and the forehead above them, fading out towards the upper lids (their
skin stretches a little) and the hairline. Blinks are drawn, not warped: see :mod:`neura.avatar.eyelids`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neura.avatar import landmarks as lm
from neura.avatar.geometry import (
    F32,
    Box,
    FaceFrame,
    box_window,
    clip_box,
    contour,
    frame_box,
    smoothstep,
)

EYE_FIELDS = ("brow",)
BROW_RAISE_OF_FACE = 0.022  # brow raise at full strength, as a share of the face height
HEAD_MASK_STEP_PX = 4  # the head mask is stored at a quarter of the ROI's resolution


@dataclass
class EyeBasis:
    box: Box
    fields: F32  # (len(EYE_FIELDS), h, w, 2) backward displacements over ``box``


def _brow(frame: FaceFrame, pts: F32, u: F32, v: F32) -> F32:
    height = frame.height_px
    total = np.zeros_like(u)
    for brow, lid in ((lm.RIGHT_BROW, lm.RIGHT_EYE_UPPER), (lm.LEFT_BROW, lm.LEFT_EYE_UPPER)):
        bu, bv = frame.uv(pts[list(brow)])
        lu, lv = contour(frame, pts, lid)
        centre_u, half = float(bu.mean()), float(bu.max() - bu.min()) / 2
        brow_v = float(bv.mean())
        lid_v = np.interp(u, lu, lv).astype(np.float32)
        lateral = 1.0 - smoothstep(half, half + 0.12 * height, np.abs(u - centre_u))
        up = smoothstep(brow_v - 0.3 * height, brow_v - 0.02 * height, v)
        down = 1.0 - smoothstep(brow_v, np.maximum(lid_v, brow_v + 1.0), v)
        total = np.maximum(total, lateral * np.where(v < brow_v, up, down))
    dv = BROW_RAISE_OF_FACE * height * total  # backward: sample from below, so the brow rises
    return frame.to_xy(np.zeros_like(dv), dv.astype(np.float32))


def build_eye_basis(pts: F32, frame: FaceFrame, limit: Box) -> EyeBasis:
    """The brow field over a box around both eyes and brows."""
    height = frame.height_px
    us, vs = frame.uv(pts)
    eye_idx = list(lm.RIGHT_EYE_UPPER + lm.LEFT_EYE_UPPER + lm.RIGHT_EYE_LOWER + lm.LEFT_EYE_LOWER)
    brow_idx = list(lm.RIGHT_BROW + lm.LEFT_BROW)
    box = clip_box(
        frame_box(
            frame,
            float(us[eye_idx].min()) - 0.16 * height,
            float(us[eye_idx].max()) + 0.16 * height,
            float(vs[brow_idx].min()) - 0.34 * height,
            float(vs[eye_idx].max()) + 0.06 * height,
        ),
        limit,
    )
    u, v = frame.grid_uv(box)
    window = box_window((box[3] - box[1], box[2] - box[0]), 6)[..., None]
    return EyeBasis(box, (_brow(frame, pts, u, v)[None] * window).astype(np.float32))


@dataclass
class HeadRegion:
    roi: Box
    mask: F32  # (roi_h // 4, roi_w // 4): 1 where the head moves rigidly, 0 at the ROI's edges
    pivot: F32  # (2,) where the head turns (the neck), image pixels


def head_ellipse(frame: FaceFrame, pts: F32) -> tuple[float, float, float, float, float]:
    """(centre_v, half_u, up_v, down_v, falloff_px) of the soft ellipse covering face and hair."""
    height = frame.height_px
    us, vs = frame.uv(pts)
    top, chin = float(vs[lm.FOREHEAD]), float(vs[lm.CHIN])
    centre = 0.5 * (top + chin) - 0.05 * height
    half_u = float(us[lm.CHEEK_LEFT] - us[lm.CHEEK_RIGHT]) / 2 + 0.12 * height
    return centre, half_u, centre - top + 0.28 * height, chin - centre + 0.04 * height, 0.2 * height


def build_head_region(pts: F32, frame: FaceFrame, roi: Box) -> HeadRegion:
    """The soft head mask over ``roi`` (whose sides must be multiples of 4)."""
    centre, half_u, up, down, soft = head_ellipse(frame, pts)
    u, v = frame.grid_uv(roi, step=HEAD_MASK_STEP_PX, offset=(HEAD_MASK_STEP_PX - 1) / 2)
    dv = v - centre
    r = np.sqrt((u / half_u) ** 2 + (dv / np.where(dv < 0, up, down)) ** 2)
    inside = 1.0 - smoothstep(1.0, 1.0 + soft / min(half_u, down), r)
    h, w = u.shape
    edge = np.minimum(
        np.minimum(np.arange(h), np.arange(h)[::-1])[:, None], np.minimum(np.arange(w), np.arange(w)[::-1])
    ).astype(np.float32)
    ramp = max(3.0, 0.06 * max(h, w))
    border = smoothstep(1.5, 1.5 + ramp, edge)
    chin_v = float(frame.uv(pts[[lm.CHIN]])[1][0])
    pivot = frame.origin + frame.ey * np.float32(chin_v + 0.2 * frame.height_px)
    return HeadRegion(roi, (inside * border).astype(np.float32), pivot.astype(np.float32))
