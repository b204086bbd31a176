"""Blinks, drawn: the upper lid comes down over the eye as a curtain of lid-coloured skin with the
lash line on its edge.

Stretching the photo's lid skin over the eye smears the lashes and drags along anything between eye
and brow (glasses' rims, eyeliner); a small drawn lid does neither. Colours come from the photo: the
lid skin just above the eye (its darker pixels, lashes and rims, left out) and the lash line itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from neura.avatar import landmarks as lm

F32 = npt.NDArray[np.float32]
RGB = npt.NDArray[np.uint8]

_SUBPIXEL_BITS = 4
EYES = ((lm.LEFT_EYE_UPPER, lm.LEFT_EYE_LOWER), (lm.RIGHT_EYE_UPPER, lm.RIGHT_EYE_LOWER))  # blink_left first


@dataclass(frozen=True)
class Eyelids:
    """Both eyes' lid contours (photo pixels) and colours, subject's left eye first."""

    points: F32  # (2, 2, 9, 2): eye, upper/lower lid, point, xy
    colours: F32  # (2, 2, 3): eye, lid skin / lash line, RGB


def _eye_colours(image: RGB, upper: F32, lower: F32) -> F32:
    opening = float(np.max(lower[:, 1] - upper[:, 1]))
    x0, x1 = upper[:, 0].min(), upper[:, 0].max()
    xs = np.arange(int(x0 + 0.15 * (x1 - x0)), int(x1 - 0.15 * (x1 - x0)) + 1)
    order = np.argsort(upper[:, 0])
    top = np.interp(xs, upper[order, 0], upper[order, 1])
    h, w = image.shape[:2]
    lid, lash = [], []
    for x, y in zip(xs, top, strict=True):
        if not 0 <= x < w:
            continue
        above = np.arange(int(y - 0.6 * opening - 2), int(y - 1))
        margin = np.arange(int(y - 1), int(y + 2))
        lid.extend(image[np.clip(above, 0, h - 1), x])
        lash.extend(image[np.clip(margin, 0, h - 1), x])
    lid_pixels = np.array(lid, np.float32).reshape(-1, 3)
    lash_pixels = np.array(lash, np.float32).reshape(-1, 3)
    if len(lid_pixels) < 4 or len(lash_pixels) < 4:
        return np.array([[180, 140, 120], [40, 30, 30]], np.float32)
    luma = lid_pixels @ np.array([0.299, 0.587, 0.114], np.float32)
    skin = lid_pixels[luma >= np.quantile(luma, 0.3)]  # leave out lashes, liner and rims
    lash_luma = lash_pixels @ np.array([0.299, 0.587, 0.114], np.float32)
    dark = lash_pixels[lash_luma <= np.quantile(lash_luma, 0.2)]
    return np.stack([np.median(skin, axis=0) * 0.96, np.median(dark, axis=0) * 0.8]).astype(np.float32)


def measure_eyelids(image: RGB, pts: F32) -> Eyelids:
    points = np.array([[pts[list(upper)], pts[list(lower)]] for upper, lower in EYES], np.float32)
    colours = np.stack([_eye_colours(image, eye[0], eye[1]) for eye in points]).astype(np.float32)
    return Eyelids(points, colours)


@dataclass(frozen=True)
class Blink:
    """One eye's closing lid over ``box`` (x0, y0, x1, y1), as per-pixel arrays: what :func:`apply_blink`
    (numpy) or a GPU renderer blends into the frame. The lid's colour is taken from the frame itself
    (the skin at ``rows`` above the eye, per column), so it is applied after the warp."""

    box: tuple[int, int, int, int]
    alpha: F32  # (h, w): lid coverage, lashes included
    shade: F32  # (h, w): the lid's shading
    lash: F32  # (h, w): the lash line's opacity
    rows: npt.NDArray[np.intp]  # (w,): the frame row whose skin colours each column's lid
    colours: F32  # (2, 3): lid skin, lash line


def plan_blink(shape: tuple[int, ...], upper: F32, lower: F32, colours: F32, amount: float) -> Blink | None:
    """Close one eye by ``amount`` (0..1): lid skin from the upper lid down to its moving edge."""
    if amount <= 0.02:
        return None
    amount = min(amount, 1.0)
    edge = upper + (lower - upper) * np.float32(amount)
    eye_w = float(upper[:, 0].max() - upper[:, 0].min())
    opening = float(np.max(lower[:, 1] - upper[:, 1]))
    lash_px = max(1.2, 0.06 * eye_w)
    h_img, w_img = shape[:2]
    x0 = max(int(np.floor(upper[:, 0].min())) - 2, 0)
    x1 = min(int(np.ceil(upper[:, 0].max())) + 3, w_img)
    y0 = max(int(np.floor(upper[:, 1].min())) - 3, 0)
    y1 = min(int(np.ceil(edge[:, 1].max() + lash_px)) + 3, h_img)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return None
    # the curtain: the lid polygon, its top feathered over the photo's own lash line
    polygon = np.concatenate([upper + np.array([0, -1.2], np.float32), edge[::-1]])
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    fixed = np.round((polygon - np.array([x0, y0], np.float32)) * (1 << _SUBPIXEL_BITS)).astype(np.int32)
    cv2.fillPoly(mask, [fixed], (255,), lineType=cv2.LINE_AA, shift=_SUBPIXEL_BITS)
    alpha = cv2.GaussianBlur(mask, (3, 3), 0.8).astype(np.float32) * np.float32(1 / 255)

    xs = np.arange(x0, x1, dtype=np.float32) + np.float32(0.5)
    ys = (np.arange(y0, y1, dtype=np.float32) + np.float32(0.5))[:, None]
    order = np.argsort(upper[:, 0])
    top = np.interp(xs, upper[order, 0], upper[order, 1]).astype(np.float32)
    bottom = np.interp(xs, edge[order, 0], edge[order, 1]).astype(np.float32)
    span = np.maximum(bottom - top, np.float32(1.0))
    t = np.clip((ys - top) / span, 0.0, 1.0)
    # a convex lid: lighter across its middle, a little shadow under the brow and above the lashes
    shade = 0.9 + 0.16 * np.maximum(np.sin(np.pi * t), 0.0) ** 0.7 - 0.1 * t
    across = np.clip(np.abs(xs - float(xs.mean())) / max(eye_w / 2, 1.0), 0.0, 1.0)
    shade = shade * (1.0 - 0.08 * across**2)[None, :]
    # the lash line along the moving edge, thinning towards the corners
    taper = np.clip(np.minimum(xs - x0, x1 - xs) / max(0.18 * eye_w, 1.0), 0.0, 1.0)[None, :]
    lash_d = (ys - (bottom - 0.35 * lash_px)) / lash_px
    lash_a = np.exp(-(lash_d**2) * 1.6) * (0.82 * taper)
    lash_a *= min(1.0, amount * 2.5)
    alpha = np.maximum(alpha, lash_a * (np.abs(ys - bottom) < 2 * lash_px))
    rows = np.clip(np.round(top - max(3.0, 0.45 * opening)).astype(np.intp), 0, h_img - 1)
    f32 = np.float32
    return Blink((x0, y0, x1, y1), alpha.astype(f32), shade.astype(f32), lash_a.astype(f32), rows, colours)


def apply_blink(out: RGB, blink: Blink) -> None:
    """Draw ``blink`` into ``out`` (in place)."""
    x0, y0, x1, y1 = blink.box
    # the lid's colour: the skin just above the eye in this very frame (so light and motion match),
    # steadied by the colour measured on the photo
    above = out[blink.rows, np.arange(x0, x1)].astype(np.float32)
    above = cv2.blur(above[None], (5, 1))[0]
    lid_rgb = 0.5 * above + 0.5 * blink.colours[0]

    patch = out[y0:y1, x0:x1]
    channels = []
    for c in range(3):
        lid = blink.shade * lid_rgb[None, :, c]
        lid += (float(blink.colours[1, c]) - lid) * blink.lash
        base = patch[..., c].astype(np.float32)
        channels.append(np.clip(base + (lid - base) * blink.alpha, 0.0, 255.0).astype(np.uint8))
    patch[:] = cv2.merge(channels)
