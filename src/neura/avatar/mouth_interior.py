"""The mouth interior's colours and light, read from the photo, and the polygon helpers its drawing uses.

Teeth take the colour of the photo's own teeth where its lips are parted over them, otherwise of the
eye whites (the sclera), a little warmer; gums, tongue, the cavity and the inner (wet) lip take the
lips' tone, darker. The photo's light is measured too: how much brighter one cheek is than the other
(the teeth get the same side light) and its fine texture (grain, pores, compression noise), which the
drawn layers carry so they do not read as flat paint beside the photographed skin.
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

LUMA = np.array([0.299, 0.587, 0.114], np.float32)
_SUBPIXEL_BITS = 4
_CHEEKS = ((50, 101, 36, 205), (280, 330, 266, 425))  # image left, image right
_FALLBACK_SKIN = np.array([190, 150, 130], np.float32)


@dataclass(frozen=True)
class MouthPalette:
    """Linear RGB in 0..255 (float32, shape (3,) each)."""

    teeth: F32
    gum: F32
    tongue: F32
    cavity: F32
    lip_inner: F32
    lip_line: F32

    def as_array(self) -> F32:
        return np.stack([self.teeth, self.gum, self.tongue, self.cavity, self.lip_inner, self.lip_line])

    @classmethod
    def from_array(cls, a: F32) -> MouthPalette:
        return cls(*(np.asarray(a[i], np.float32) for i in range(6)))


@dataclass(frozen=True)
class PhotoLight:
    """What the photo says about light and texture around the face."""

    palette: MouthPalette
    side_light: float  # (right cheek - left cheek) / their sum, in image terms: -0.3 .. 0.3
    skin_luma: float
    grain: F32  # (h, w) zero-mean luminance detail of the photo's skin (high-pass), for textures
    photo_teeth: bool  # the photo's own teeth show between its lips


def _mask(shape: tuple[int, ...], polygon: F32, minus: F32 | None = None) -> npt.NDArray[np.bool_]:
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(polygon).astype(np.int32)], (255,))
    if minus is not None:
        cv2.fillPoly(mask, [np.round(minus).astype(np.int32)], (0,))
    return mask > 0


def _median(pixels: F32) -> F32 | None:
    return np.median(pixels, axis=0).astype(np.float32) if len(pixels) >= 8 else None


def _sclera(image: RGB, pts: F32) -> F32 | None:
    """The eye whites: the brightest, least saturated pixels inside both eye openings."""
    picked = []
    for upper, lower in ((lm.RIGHT_EYE_UPPER, lm.RIGHT_EYE_LOWER), (lm.LEFT_EYE_UPPER, lm.LEFT_EYE_LOWER)):
        loop = pts[list(upper) + list(reversed(lower[1:-1]))]
        picked.append(image[_mask(image.shape, loop)].astype(np.float32))
    pixels = np.concatenate(picked)
    if len(pixels) < 12:
        return None
    luma = pixels @ LUMA
    spread = pixels.max(axis=1) - pixels.min(axis=1)
    keep = (luma >= np.quantile(luma, 0.7)) & (spread <= np.quantile(spread, 0.6))
    return _median(pixels[keep] if keep.sum() >= 4 else pixels[luma >= np.quantile(luma, 0.8)])


def _enamel(sclera: F32 | None, skin: F32) -> F32:
    """Teeth colour without teeth to look at: as bright as the eye whites (and no darker than the
    skin), warm ivory, tinted half way towards the photo's white balance (the eye whites' hue)."""
    skin_luma = float(skin @ LUMA)
    white = sclera if sclera is not None else np.array([225, 220, 210], np.float32)
    white_luma = max(float(white @ LUMA), 1.0)
    tint = 0.5 + 0.5 * np.clip(white / white_luma, 0.6, 1.4)
    luma = float(np.clip(max(0.95 * white_luma, 0.95 * skin_luma), 60.0, 230.0))
    ivory = np.array([1.05, 1.0, 0.88], np.float32)
    return (ivory * tint * luma / float((ivory * tint) @ LUMA)).astype(np.float32)


def photo_teeth_mask(image: RGB, pts: F32) -> npt.NDArray[np.bool_]:
    """Pixels of the photo's own teeth: bright, pale pixels between its parted inner lips."""
    found = np.zeros(image.shape[:2], bool)
    if lm.mouth_gap_px(pts) < 2.5:
        return found
    outer = _outer_loop(pts)
    x0, y0 = (max(int(c) - 2, 0) for c in outer.min(axis=0))
    x1, y1 = (int(c) + 3 for c in outer.max(axis=0))
    origin = np.array([x0, y0], np.float32)
    patch = image[y0:y1, x0:x1]
    inner = pts[list(lm.INNER_LIP_LOOP)] - origin
    between = _mask(patch.shape, inner)
    if between.sum() < 12:
        return found
    pixels = patch.astype(np.float32)
    luma = pixels @ LUMA
    spread = pixels.max(axis=2) - pixels.min(axis=2)
    lips = _mask(patch.shape, outer - origin, inner)
    lip_luma = float(np.median(luma[lips])) if lips.any() else 120.0
    found[y0:y1, x0:x1] = between & (luma > lip_luma * 1.08) & (spread < 0.45 * np.maximum(luma, 1.0))
    return found


def _outer_loop(pts: F32) -> F32:
    return pts[list(lm.OUTER_LIP_UPPER + tuple(reversed(lm.OUTER_LIP_LOWER[1:-1])))]


def _grain(image: RGB, pts: F32) -> tuple[F32, float]:
    """The photo's fine luminance detail over the cheeks (high-pass) and the skin's luminance."""
    rings = pts[list(_CHEEKS[0] + _CHEEKS[1])]
    x0, y0 = (max(int(c) - 6, 0) for c in rings.min(axis=0))
    x1, y1 = (int(c) + 7 for c in rings.max(axis=0))
    area = image[y0:y1, x0:x1]
    luma = (area.astype(np.float32) @ LUMA).astype(np.float32)
    if luma.size == 0:
        return np.zeros((8, 8), np.float32), 128.0
    detail = luma - cv2.GaussianBlur(luma, (0, 0), 1.6)
    skin = np.zeros(area.shape[:2], bool)
    for ring in _CHEEKS:
        skin |= _mask(area.shape, pts[list(ring)] - np.array([x0, y0], np.float32))
    if skin.sum() < 16:
        return np.zeros((8, 8), np.float32), float(np.median(luma))
    ys, xs = np.nonzero(skin)
    sy0, sy1, sx0, sx1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    patch = np.where(skin[sy0:sy1, sx0:sx1], detail[sy0:sy1, sx0:sx1], 0.0).astype(np.float32)
    patch -= float(patch[skin[sy0:sy1, sx0:sx1]].mean())
    return patch, float(np.median(luma[skin]))


def measure_light(image: RGB, pts: F32) -> PhotoLight:
    """The mouth's colours, the side light and the grain of this photo."""
    lips = _median(image[_mask(image.shape, _outer_loop(pts), pts[list(lm.INNER_LIP_LOOP)])].astype(np.float32))
    cheeks = [_median(image[_mask(image.shape, pts[list(ring)])].astype(np.float32)) for ring in _CHEEKS]
    found = [c for c in cheeks if c is not None]
    skin = np.mean(found, axis=0).astype(np.float32) if found else _FALLBACK_SKIN
    if lips is None:
        lips = (skin * np.array([0.95, 0.7, 0.7], np.float32)).astype(np.float32)
    side = 0.0
    if all(c is not None for c in cheeks):
        left, right = (float(c @ LUMA) for c in cheeks if c is not None)
        side = float(np.clip((right - left) / max(right + left, 1.0), -0.3, 0.3))
    grain, skin_luma = _grain(image, pts)

    own = photo_teeth_mask(image, pts)
    photo_teeth = int(own.sum()) >= 12
    if photo_teeth:
        pixels = image[own].astype(np.float32)
        teeth = np.median(pixels[pixels @ LUMA >= np.quantile(pixels @ LUMA, 0.4)], axis=0).astype(np.float32)
    else:
        teeth = _enamel(_sclera(image, pts), skin)
    warm = np.array([1.0, 0.62, 0.62], np.float32)
    return PhotoLight(
        palette=MouthPalette(
            teeth=np.clip(teeth, 0, 250).astype(np.float32),
            gum=np.clip(lips * np.array([1.08, 0.82, 0.84], np.float32), 0, 255).astype(np.float32),
            tongue=np.clip(lips * np.array([0.92, 0.62, 0.62], np.float32), 0, 255).astype(np.float32),
            cavity=(lips * warm * 0.2).astype(np.float32),
            lip_inner=(lips * np.array([0.78, 0.52, 0.54], np.float32)).astype(np.float32),
            lip_line=(lips * 0.5).astype(np.float32),
        ),
        side_light=side,
        skin_luma=skin_luma,
        grain=grain,
        photo_teeth=photo_teeth,
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


@dataclass(frozen=True)
class Overlay:
    """Colour blended over a box of the frame by per-pixel coverage: ``out += (colour - out) * alpha``.
    What the warp's drawn parts (the mouth interior, the lips' line) are, for :func:`apply_overlay`
    (numpy/OpenCV) or a GPU renderer alike."""

    box: tuple[int, int, int, int]  # x0, y0, x1, y1
    colour: npt.NDArray[Any]  # (h, w, 3) uint8 per pixel, or (3,) float32 for one colour
    alpha: F32  # (h, w), 0..1


def lip_line_overlay(shape: tuple[int, ...], loop: F32, palette: MouthPalette, strength: float) -> Overlay | None:
    """The soft dark line where closed lips meet."""
    n_upper = len(lm.INNER_LIP_UPPER)
    line = loop[:n_upper]
    x0 = max(int(np.floor(line[:, 0].min())) - 2, 0)
    y0 = max(int(np.floor(line[:, 1].min())) - 3, 0)
    x1 = min(int(np.ceil(line[:, 0].max())) + 3, shape[1])
    y1 = min(int(np.ceil(line[:, 1].max())) + 4, shape[0])
    if x1 - x0 < 3 or y1 - y0 < 3:
        return None
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    fixed = np.round((line - np.array([x0, y0])) * (1 << _SUBPIXEL_BITS)).astype(np.int32)
    cv2.polylines(mask, [fixed], False, (255,), 1, lineType=cv2.LINE_AA, shift=_SUBPIXEL_BITS)
    alpha = cv2.GaussianBlur(mask, (3, 3), 0.7).astype(np.float32) * np.float32(strength / 255)
    return Overlay((x0, y0, x1, y1), np.asarray(palette.lip_line, np.float32), alpha)


def apply_overlay(out: RGB, overlay: Overlay) -> None:
    """Blend ``overlay`` into ``out`` (in place)."""
    x0, y0, x1, y1 = overlay.box
    if overlay.colour.ndim == 3:  # a picture: OpenCV's blend (numpy's is several times slower on small boxes)
        patch = out[y0:y1, x0:x1]
        patch[:] = cv2.blendLinear(overlay.colour, patch, overlay.alpha, 1.0 - overlay.alpha)
        return
    patch = out[y0:y1, x0:x1].astype(np.float32)
    patch += (overlay.colour - patch) * overlay.alpha[..., None]
    out[y0:y1, x0:x1] = np.clip(patch, 0, 255).astype(np.uint8)
