"""The inside of the mouth, drawn between the moved inner lips: dark cavity, teeth, a hint of tongue.

Colours come from the photo (its lips and skin), so the cavity is warm and as bright as the scene.
The upper teeth hang from the skull (they move with the head, not with the upper lip), so they show
more as the lip lifts; the lower teeth and tongue appear only at wide openings. Everything is drawn
on a small box around the mouth, with feathered edges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from neura.avatar import landmarks as lm

F32 = npt.NDArray[np.float32]
RGB = npt.NDArray[np.uint8]

_SUBPIXEL_BITS = 4


@dataclass(frozen=True)
class MouthPalette:
    """Linear RGB in 0..255 (float32, shape (3,))."""

    teeth: F32
    cavity_dark: F32
    cavity_light: F32
    tongue: F32
    lip_line: F32

    def as_array(self) -> F32:
        return np.stack([self.teeth, self.cavity_dark, self.cavity_light, self.tongue, self.lip_line])

    @classmethod
    def from_array(cls, a: F32) -> MouthPalette:
        return cls(*(np.asarray(a[i], np.float32) for i in range(5)))


def _median_in(image: RGB, polygon: F32, minus: F32 | None = None) -> F32 | None:
    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(polygon).astype(np.int32)], (255,))
    if minus is not None:
        cv2.fillPoly(mask, [np.round(minus).astype(np.int32)], (0,))
    picked = image[mask > 0]
    if len(picked) < 8:
        return None
    return np.median(picked, axis=0).astype(np.float32)


def estimate_palette(image: RGB, pts: F32) -> MouthPalette:
    """Mouth colours that suit this photo's skin, lips and light."""
    outer = pts[list(lm.OUTER_LIP_UPPER + tuple(reversed(lm.OUTER_LIP_LOWER[1:-1])))]
    inner = pts[list(lm.INNER_LIP_LOOP)]
    lips = _median_in(image, outer, inner)
    cheeks = [_median_in(image, pts[list(ring)]) for ring in ((50, 101, 36, 205), (280, 330, 266, 425))]
    skin_parts = [c for c in cheeks if c is not None]
    skin = np.mean(skin_parts, axis=0).astype(np.float32) if skin_parts else np.array([190, 150, 130], dtype=np.float32)
    if lips is None:
        lips = (skin * np.array([0.95, 0.7, 0.7], dtype=np.float32)).astype(np.float32)
    light = float(np.clip(np.dot(skin, [0.299, 0.587, 0.114]) / 170.0, 0.45, 1.05))
    teeth = (np.array([234, 226, 210], dtype=np.float32) * 0.62 + skin * 0.38) * light * 0.92
    return MouthPalette(
        teeth=np.clip(teeth, 0, 255).astype(np.float32),
        cavity_dark=(lips * np.array([0.22, 0.12, 0.12], dtype=np.float32)).astype(np.float32),
        cavity_light=(lips * np.array([0.45, 0.28, 0.28], dtype=np.float32)).astype(np.float32),
        tongue=(lips * np.array([0.74, 0.46, 0.46], dtype=np.float32)).astype(np.float32),
        lip_line=(lips * 0.5).astype(np.float32),
    )


def edges(loop: F32, n_upper: int, xs: F32) -> tuple[F32, F32]:
    """Upper and lower inner-lip edges y(x) at the given columns."""
    upper = loop[:n_upper]
    lower = np.concatenate([loop[:1], loop[n_upper:][::-1], loop[n_upper - 1 : n_upper]])
    ou, ol = np.argsort(upper[:, 0]), np.argsort(lower[:, 0])
    top = np.interp(xs, upper[ou, 0], upper[ou, 1]).astype(np.float32)
    bottom = np.interp(xs, lower[ol, 0], lower[ol, 1]).astype(np.float32)
    return top, bottom


def interior_box(loop: F32, shape: tuple[int, ...]) -> tuple[int, int, int, int] | None:
    """The pixel box (x0, y0, x1, y1) around the inner-lip polygon, inside an image of ``shape``."""
    h_img, w_img = shape[:2]
    x0 = max(int(np.floor(loop[:, 0].min())) - 2, 0)
    x1 = min(int(np.ceil(loop[:, 0].max())) + 3, w_img)
    y0 = max(int(np.floor(loop[:, 1].min())) - 2, 0)
    y1 = min(int(np.ceil(loop[:, 1].max())) + 3, h_img)
    if x1 - x0 < 3 or y1 - y0 < 2:
        return None
    return x0, y0, x1, y1


def coverage(polygon: F32, box: tuple[int, int, int, int], feather_px: float = 0.6) -> F32:
    """Anti-aliased (1/16 px) coverage of ``polygon`` over ``box``, feathered: float32 0..1."""
    x0, y0, x1, y1 = box
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    fixed = np.round((polygon - np.array([x0, y0], np.float32)) * (1 << _SUBPIXEL_BITS)).astype(np.int32)
    cv2.fillPoly(mask, [fixed], (255,), lineType=cv2.LINE_AA, shift=_SUBPIXEL_BITS)
    return cv2.GaussianBlur(mask, (3, 3), feather_px).astype(np.float32) * np.float32(1 / 255)


def draw_mouth_interior(
    out: RGB,
    loop: F32,
    teeth_line: F32,
    palette: MouthPalette,
    openness: float,
    mouth_width_px: float,
    teeth_show: float = 1.0,
) -> None:
    """Paint the cavity inside the inner-lip polygon ``loop`` (output pixels) into ``out``, in place.

    ``teeth_line``: bottom edge of the upper teeth (output pixels); ``openness``: 0..1 of a wide "aa";
    ``teeth_show``: how much of the upper teeth the lip uncovers (less when the lips are rounded).
    This is the reference painter; the renderer uses :mod:`neura.avatar.mouth_atlas`, built from it.
    """
    box = interior_box(loop, out.shape)
    if box is None:
        return
    alpha = coverage(loop, box)
    if float(alpha.max()) < 0.05:
        return
    colour = paint_interior(loop, teeth_line, palette, openness, mouth_width_px, teeth_show, box)
    x0, y0, x1, y1 = box
    patch = out[y0:y1, x0:x1]
    base = patch.astype(np.float32)
    blended = cv2.add(base, cv2.multiply(cv2.subtract(colour, base), _rgb3(alpha)))
    patch[:] = np.asarray(blended, dtype=np.float32).astype(np.uint8)  # values stay within 0..255


def paint_interior(
    loop: F32,
    teeth_line: F32,
    palette: MouthPalette,
    openness: float,
    mouth_width_px: float,
    teeth_show: float,
    box: tuple[int, int, int, int],
) -> F32:
    """The interior's colours (float32, h x w x 3) over ``box``, before blending into the frame."""
    n_upper = len(lm.INNER_LIP_UPPER)
    x0, y0, x1, y1 = box
    xs = np.arange(x0, x1, dtype=np.float32) + np.float32(0.5)
    ys = (np.arange(y0, y1, dtype=np.float32) + np.float32(0.5))[:, None]
    top, bottom = edges(loop, n_upper, xs)
    gap = np.maximum(bottom - top, np.float32(0.5))
    centre_x = float(loop[:, 0].mean())
    half_w = max(mouth_width_px / 2, 4.0)
    dx = ((xs - centre_x) / half_w).astype(np.float32)
    side2 = np.minimum(dx * dx, np.float32(1.0))  # 0 middle .. 1 corners (squared)

    # cavity: dark and warm, darkest at the back (middle) and towards the corners
    t = _unit((ys - top) / gap, 1.0)
    mid = 4.0 * t * (1.0 - t)
    depth = np.minimum(0.7 + 0.3 * side2 + 0.25 * mid, np.float32(1.0))
    # colour work is done with OpenCV on 3-channel images: numpy's broadcasting over a trailing
    # axis of 3 is several times slower on boxes this small
    dark, light = palette.cavity_dark, palette.cavity_light
    colour: F32 = np.asarray(cv2.add(cv2.multiply(_rgb3(depth), _scalar(dark - light)), _scalar(light)), np.float32)

    # tongue: a low, dark dome in the middle of the floor, at wider openings
    rise = min(max((openness - 0.25) / 0.5, 0.0), 1.0) * 0.22
    if rise > 0:
        dome = np.maximum(1.0 - dx * dx / np.float32(0.3), np.float32(0.0))
        height = gap * np.float32(rise) * np.sqrt(dome)
        below = ys - (bottom - height)
        tongue_a = _unit(below, 1 / 1.5) * (0.85 * (dome > 0))
        shade = 0.5 + 0.3 * _unit(below / np.maximum(height, np.float32(1.0)), 1.0)
        _mix(colour, palette.tongue, tongue_a, shade)

    # lower front teeth: a thin hint just above the lower lip, at wide openings
    lower_h = 0.05 * mouth_width_px * min(max((openness - 0.4) / 0.4, 0.0), 1.0)
    if lower_h > 0.4:
        centre = np.maximum(1.0 - side2 * 8.0, np.float32(0.0))
        lower_a = _unit(ys - (bottom - np.float32(lower_h)), 1 / 1.5) * (0.4 * centre)
        _mix(colour, palette.teeth, lower_a, 0.45 + 0.1 * centre)

    # upper teeth: from the lip down to their fixed edge, receding into shadow towards the corners
    order = np.argsort(teeth_line[:, 0])
    edge = np.interp(xs, teeth_line[order, 0], teeth_line[order, 1]).astype(np.float32)
    edge = top + (edge - top) * np.float32(teeth_show)
    across = np.minimum(np.maximum(1.15 - 1.5 * side2**0.75, 0.0), 1.0)
    teeth_a = _unit(edge + np.float32(1.0) - ys, 1 / 1.6) * across
    shade = (0.7 + 0.3 * _unit(ys - top, 1 / 2.5)) * ((1.0 - 0.55 * side2) * (1.0 - 0.12 * _tooth_gaps(dx)))
    _mix(colour, palette.teeth, teeth_a, shade)
    return colour


def _unit(x: F32, scale: float) -> F32:
    """x * scale clipped to 0..1 (a linear ramp)."""
    y = x * np.float32(scale)
    return np.minimum(np.maximum(y, np.float32(0.0), out=y), np.float32(1.0), out=y)


def _rgb3(plane: F32) -> F32:
    return np.asarray(cv2.merge([plane, plane, plane]), dtype=np.float32)


def _scalar(rgb: F32) -> Any:
    """An OpenCV per-channel scalar (OpenCV's stubs do not list tuples where it accepts them)."""
    return float(rgb[0]), float(rgb[1]), float(rgb[2]), 0.0


def _mix(colour: F32, paint: F32, amount: F32, shade: F32) -> None:
    """colour <- colour * (1 - amount) + paint * shade * amount, in place (colour: h x w x 3)."""
    cv2.multiply(colour, _rgb3(1.0 - amount), dst=colour)
    cv2.add(colour, cv2.multiply(_rgb3(shade * amount), _scalar(paint)), dst=colour)


def _tooth_gaps(dx: F32) -> F32:
    """Faint shading between the front teeth (centrals, laterals), dx in mouth half-widths."""
    d = (dx[None, :] - _GAP_OFFSETS[:, None]) / np.float32(0.02)
    return np.max(_GAP_STRENGTHS[:, None] * np.exp(-d * d), axis=0).astype(np.float32)


_GAP_OFFSETS = np.array([0.0, 0.2, -0.2], dtype=np.float32)
_GAP_STRENGTHS = np.array([1.0, 0.5, 0.5], dtype=np.float32)


def draw_lip_line(out: RGB, loop: F32, palette: MouthPalette, strength: float) -> None:
    """The soft dark line where closed lips meet."""
    n_upper = len(lm.INNER_LIP_UPPER)
    line = loop[:n_upper]
    x0 = max(int(np.floor(line[:, 0].min())) - 2, 0)
    y0 = max(int(np.floor(line[:, 1].min())) - 3, 0)
    x1 = min(int(np.ceil(line[:, 0].max())) + 3, out.shape[1])
    y1 = min(int(np.ceil(line[:, 1].max())) + 4, out.shape[0])
    if x1 - x0 < 3 or y1 - y0 < 3:
        return
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    fixed = np.round((line - np.array([x0, y0])) * (1 << _SUBPIXEL_BITS)).astype(np.int32)
    cv2.polylines(mask, [fixed], False, (255,), 1, lineType=cv2.LINE_AA, shift=_SUBPIXEL_BITS)
    alpha = cv2.GaussianBlur(mask, (3, 3), 0.7).astype(np.float32) * np.float32(strength / 255)
    patch = out[y0:y1, x0:x1].astype(np.float32)
    patch += (palette.lip_line - patch) * alpha[..., None]
    out[y0:y1, x0:x1] = np.clip(patch, 0, 255).astype(np.uint8)
