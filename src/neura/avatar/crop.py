"""Where the rig's square comes from in the photo, and which part of it may change.

The crop puts the face at ~37% of the height with the eyes 40% from the top. Where that square would
leave the photo it first moves (the face may sit up to :data:`MAX_SHIFT_SHARE` of the side off its
place) and then zooms in (the face up to :data:`MAX_FACE_SHARE` of the height) to stay inside; only
what is still missing is padded, with the photo mirrored at its edge and blurred (an out-of-focus
extension of the background, never stretched edge pixels). The ROI is the head with room for its soft mask and
the jaw's reach; :func:`tighten` then shrinks it to what the fields and the mask actually touch.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from neura.avatar import landmarks as lm
from neura.avatar.eye_basis import HEAD_MASK_STEP_PX, head_ellipse
from neura.avatar.geometry import Box, FaceFrame, frame_box

FACE_SHARE_OF_CROP = 0.37  # face height (forehead to chin) / crop height
EYES_FROM_TOP = 0.40  # eye line, as a share of the crop height from its top
SHIFT_SHARE = 0.025  # room kept around the mouth and eye boxes for head motion, of the size
MAX_SHIFT_SHARE = 0.15  # how far the square may move off the face's place to stay in the photo
MAX_FACE_SHARE = 0.46  # how far it may zoom in (face height / crop height) to stay in the photo

F32 = npt.NDArray[np.float32]
RGB = npt.NDArray[np.uint8]


def _place(start: float, side: float, extent: float, max_shift: float) -> float:
    """Where a span of ``side`` starting ideally at ``start`` goes along an axis of ``extent`` pixels:
    inside it if a shift of at most ``max_shift`` allows, else as far inside as that shift goes
    (centred over the photo when the span is longer than the photo)."""
    inside = (extent - side) / 2 if side > extent else min(max(start, 0.0), extent - side)
    return min(max(inside, start - max_shift), start + max_shift)


def crop_matrix(pts: F32, size_px: int, photo_shape: tuple[int, ...] | None = None) -> npt.NDArray[np.float64]:
    """Photo -> rig transform: the face fills ~37% of the height, the eyes sit 40% from the top, moved
    and zoomed (within limits) so that the square stays inside a photo of ``photo_shape``."""
    height = float(np.linalg.norm(pts[lm.CHIN] - pts[lm.FOREHEAD]))
    side = height / FACE_SHARE_OF_CROP
    if photo_shape is not None:  # pixel centres run from 0 to n - 1: that is the room a square has
        side = max(min(side, float(min(photo_shape[:2]) - 1)), height / MAX_FACE_SHARE)
    eyes_y = float(pts[[33, 133, 362, 263], 1].mean())
    centre_x = float(pts[[lm.CHEEK_RIGHT, lm.CHEEK_LEFT], 0].mean())
    left, top = centre_x - side / 2, eyes_y - EYES_FROM_TOP * side
    if photo_shape is not None:
        left = _place(left, side, float(photo_shape[1] - 1), MAX_SHIFT_SHARE * side)
        top = _place(top, side, float(photo_shape[0] - 1), MAX_SHIFT_SHARE * side)
    scale = size_px / side
    return np.array([[scale, 0.0, -scale * left], [0.0, scale, -scale * top]])


def extract_crop(rgb: RGB, matrix: npt.NDArray[np.float64], size_px: int) -> RGB:
    """Warp the photo into the square crop; where the crop leaves the photo, mirror the photo at its
    edge and blur that progressively, so the padding reads as out-of-focus background."""
    m = matrix.copy()
    scale = float(m[0, 0])
    source = rgb
    if scale < 0.75:  # shrink with area averaging first: warpAffine alone would alias
        pre = scale / 0.9
        source = np.asarray(cv2.resize(rgb, None, fx=pre, fy=pre, interpolation=cv2.INTER_AREA), dtype=np.uint8)
        m[:, :2] /= pre
    flags = cv2.INTER_CUBIC if m[0, 0] > 1.0 else cv2.INTER_LINEAR
    size = (size_px, size_px)
    crop: RGB = np.asarray(cv2.warpAffine(source, m, size, flags=flags, borderMode=cv2.BORDER_REFLECT_101), np.uint8)
    if m[0, 0] > 1.3:  # upscaled: restore a little crispness
        soft = cv2.GaussianBlur(crop, (0, 0), 0.5 * float(m[0, 0]))
        crop = np.asarray(cv2.addWeighted(crop, 1.35, soft, -0.35, 0), np.uint8)
    ones = np.full(source.shape[:2], 255, np.uint8)
    valid = cv2.warpAffine(ones, m, size, flags=cv2.INTER_LINEAR, borderValue=(0,))
    if int(valid.min()) < 255:
        crop = _soften_padding(crop, valid < 250)
    return np.ascontiguousarray(crop)


def _soften_padding(crop: RGB, outside: npt.NDArray[np.bool_]) -> RGB:
    """Blur the mirrored border more the farther it lies from the photo, ending in a soft wash of its
    colours (no streaks, no mirrored face)."""
    size = crop.shape[0]
    dist = cv2.distanceTransform(outside.astype(np.uint8), cv2.DIST_L2, 5)
    near = np.clip(dist / (0.03 * size), 0.0, 1.0)[..., None]
    far = np.clip((dist - 0.02 * size) / (0.1 * size), 0.0, 1.0)[..., None]
    soft = cv2.GaussianBlur(crop, (0, 0), 0.02 * size).astype(np.float32)
    small = cv2.resize(crop, (max(size // 8, 8), max(size // 8, 8)), interpolation=cv2.INTER_AREA)
    wash = cv2.resize(cv2.GaussianBlur(small, (0, 0), 0.012 * size), (size, size), interpolation=cv2.INTER_CUBIC)
    out = crop + (soft - crop) * near
    out += (wash.astype(np.float32) - out) * far
    return np.clip(out, 0, 255).astype(np.uint8)


def _align(box: tuple[float, ...], size_px: int, step: int = 4) -> Box:
    x0, y0, x1, y1 = box
    ix0 = max(int(np.floor(x0 / step)) * step, 0)
    iy0 = max(int(np.floor(y0 / step)) * step, 0)
    ix1 = min(int(np.ceil(x1 / step)) * step, size_px)
    iy1 = min(int(np.ceil(y1 / step)) * step, size_px)
    return ix0, iy0, ix1, iy1


def shift_margin_px(size_px: int) -> int:
    return max(12, round(SHIFT_SHARE * size_px))


def head_roi(pts: F32, frame: FaceFrame, size_px: int) -> Box:
    """The region that can change: head and hair with room for the mask's fall-off, and the jaw's."""
    centre, half_u, up, down, soft = head_ellipse(frame, pts)
    height = frame.height_px
    chin_v = float(frame.uv(pts[[lm.CHIN]])[1][0])
    reach_u = max(half_u + soft, float(frame.uv(pts[[lm.CHEEK_LEFT]])[0][0]) + 0.22 * height)
    pad = shift_margin_px(size_px) + 2
    box = frame_box(
        frame,
        -reach_u - pad,
        reach_u + pad,
        centre - up - soft - pad,
        max(centre + down + soft, chin_v + 0.26 * height) + pad,
    )
    return _align(box, size_px)


def _nonzero_box(fields: F32, box: Box, threshold: float = 0.005) -> Box:
    """The part of ``box`` where any of ``fields`` (n, h, w, 2) moves pixels by more than ``threshold``."""
    moving = np.abs(fields).max(axis=(0, 3)) > threshold
    ys, xs = np.nonzero(moving)
    if len(xs) == 0:
        return box[0], box[1], box[0] + 1, box[1] + 1
    return box[0] + int(xs.min()), box[1] + int(ys.min()), box[0] + int(xs.max()) + 1, box[1] + int(ys.max()) + 1


def trim(fields: F32, box: Box) -> tuple[F32, Box]:
    """Fields cut down to where they are not (nearly) zero."""
    found = _nonzero_box(fields, box)
    tight = (max(found[0] - 2, box[0]), max(found[1] - 2, box[1]), min(found[2] + 2, box[2]), min(found[3] + 2, box[3]))
    x0, y0, x1, y1 = (tight[0] - box[0], tight[1] - box[1], tight[2] - box[0], tight[3] - box[1])
    return np.ascontiguousarray(fields[:, y0:y1, x0:x1]), tight


def tighten(roi: Box, mask: F32, boxes: list[Box], margin_px: int) -> tuple[Box, F32]:
    """The smallest 4-aligned ROI (inside ``roi``) holding the moving part of the head mask and the
    boxes grown by ``margin_px`` (they shift with the head), with the mask cut to match."""
    step = HEAD_MASK_STEP_PX
    ys, xs = np.nonzero(mask > 1e-4)
    pad = 2 * step  # two all-zero mask samples inside the edge keep the ROI's border pixels exact
    left, top = roi[0] + step * int(xs.min()) - pad, roi[1] + step * int(ys.min()) - pad
    right, bottom = roi[0] + step * (int(xs.max()) + 1) + pad, roi[1] + step * (int(ys.max()) + 1) + pad
    parts = [(left, top, right, bottom)]
    parts += [(b[0] - margin_px, b[1] - margin_px, b[2] + margin_px, b[3] + margin_px) for b in boxes]
    x0 = max(roi[0], roi[0] + (min(p[0] for p in parts) - roi[0]) // step * step)
    y0 = max(roi[1], roi[1] + (min(p[1] for p in parts) - roi[1]) // step * step)
    x1 = min(roi[2], roi[0] + -(-(max(p[2] for p in parts) - roi[0]) // step) * step)
    y1 = min(roi[3], roi[1] + -(-(max(p[3] for p in parts) - roi[1]) // step) * step)
    qx0, qy0 = (x0 - roi[0]) // step, (y0 - roi[1]) // step
    cut = mask[qy0 : qy0 + (y1 - y0) // step, qx0 : qx0 + (x1 - x0) // step]
    return (x0, y0, x1, y1), np.ascontiguousarray(cut, dtype=np.float32)
