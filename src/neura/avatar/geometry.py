"""Geometry shared by the warp fields: the face's own frame, smooth steps and box helpers.

Every warp field is a *backward* displacement (the output pixel p shows the source pixel p + field(p)),
float32 of shape (height, width, 2) holding (dx, dy), exactly zero at the edges of its box so boxes add
without seams. Geometry is expressed in the face's own frame: ``u`` along the eye line (image right),
``v`` down the face, origin at the middle of the mouth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from neura.avatar import landmarks as lm

F32 = npt.NDArray[np.float32]
Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive), in image pixels


def smoothstep(e0: float | F32, e1: float | F32, x: F32) -> F32:
    t = np.clip((x - e0) / np.maximum(np.asarray(e1 - e0, dtype=np.float32), 1e-6), 0.0, 1.0)
    return (t * t * (3.0 - 2.0 * t)).astype(np.float32)


@dataclass(frozen=True)
class FaceFrame:
    """The face's own axes: ``ex`` along the eyes (image right), ``ey`` down the face."""

    origin: F32
    ex: F32
    ey: F32
    height_px: float

    @classmethod
    def from_landmarks(cls, pts: F32) -> FaceFrame:
        right_eye = pts[[33, 133]].mean(axis=0)
        left_eye = pts[[362, 263]].mean(axis=0)
        ex = left_eye - right_eye
        ex = (ex / max(float(np.linalg.norm(ex)), 1e-6)).astype(np.float32)
        ey = np.array([-ex[1], ex[0]], dtype=np.float32)
        if float(np.dot(pts[lm.CHIN] - pts[lm.FOREHEAD], ey)) < 0:
            ey = -ey
        origin = pts[[lm.UPPER_LIP_INNER_MID, lm.LOWER_LIP_INNER_MID]].mean(axis=0).astype(np.float32)
        height = float(np.linalg.norm(pts[lm.CHIN] - pts[lm.FOREHEAD]))
        return cls(origin, ex, ey, height)

    def uv(self, xy: F32) -> tuple[F32, F32]:
        d = xy - self.origin
        return (d @ self.ex).astype(np.float32), (d @ self.ey).astype(np.float32)

    def grid_uv(self, box: Box, step: int = 1, offset: float = 0.0) -> tuple[F32, F32]:
        x0, y0, x1, y1 = box
        xs = np.arange(x0, x1, step, dtype=np.float32) + np.float32(offset)
        ys = np.arange(y0, y1, step, dtype=np.float32) + np.float32(offset)
        gx, gy = np.meshgrid(xs - self.origin[0], ys - self.origin[1])
        return (gx * self.ex[0] + gy * self.ex[1]), (gx * self.ey[0] + gy * self.ey[1])

    def to_xy(self, du: F32, dv: F32) -> F32:
        """Face-frame displacement components -> image (dx, dy), stacked on the last axis."""
        return np.stack([du * self.ex[0] + dv * self.ey[0], du * self.ex[1] + dv * self.ey[1]], axis=-1)


def contour(frame: FaceFrame, pts: F32, idx: tuple[int, ...]) -> tuple[F32, F32]:
    """A lip or lid contour as v(u): sorted u knots and their v."""
    u, v = frame.uv(pts[list(idx)])
    order = np.argsort(u)
    return u[order], v[order]


def box_window(shape: tuple[int, int], margin_px: int) -> F32:
    """1 inside, 0 on the outer ``margin_px // 2`` pixels, smooth in between."""
    h, w = shape
    ys = np.minimum(np.arange(h), np.arange(h)[::-1]).astype(np.float32)
    xs = np.minimum(np.arange(w), np.arange(w)[::-1]).astype(np.float32)
    a = margin_px / 2.0
    return smoothstep(a, float(margin_px) + a, ys)[:, None] * smoothstep(a, float(margin_px) + a, xs)[None, :]


def clip_box(box: tuple[float, float, float, float], limit: Box) -> Box:
    x0, y0, x1, y1 = box
    return (
        max(int(np.floor(x0)), limit[0]),
        max(int(np.floor(y0)), limit[1]),
        min(int(np.ceil(x1)), limit[2]),
        min(int(np.ceil(y1)), limit[3]),
    )


def frame_box(frame: FaceFrame, u0: float, u1: float, v0: float, v1: float) -> tuple[float, float, float, float]:
    """The image-axis bounding box of a rectangle given in the face frame."""
    corners = np.array([[u, v] for u in (u0, u1) for v in (v0, v1)], dtype=np.float32)
    xy = frame.origin + corners[:, :1] * frame.ex + corners[:, 1:] * frame.ey
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


def falloff(v: F32, above: float, below: float) -> F32:
    """A bump of 1 at v = 0, Gaussian with different widths above (v < 0) and below."""
    scale = np.where(v < 0, above, below).astype(np.float32)
    return np.exp(-((v / scale) ** 2)).astype(np.float32)
