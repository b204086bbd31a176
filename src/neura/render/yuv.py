"""RGB -> I420 planes in BT.709 limited range (what the MP4 is tagged with), fast on small regions.

OpenCV's colour conversions speak only BT.601 (and its I420 takes chroma from one pixel of each 2x2
block), and ``cv2.transform`` with a float matrix costs about four times as much. BT.709 is an affine
function of BT.601's luma and chroma, so: 601 luma at full resolution, 601 chroma of the 2x2-averaged
image, then a small linear correction. Luma's correction (at most 0.21x a chroma difference) uses the
block's chroma, so it errs only at sharp colour edges inside a 2x2 block, by a level or two.
Matches :func:`neura.encode.rgb_to_i420` within a level or two on photos.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

U8 = npt.NDArray[np.uint8]

_LUMA = 219 / 255  # full -> limited range
_CHROMA = 224 / 255
# BT.709 (Y', Cb', Cr') from BT.601 limited (Y', Cb', Cr'), chroma centred on 0
_Y_FROM_CB, _Y_FROM_CR = -0.11555, -0.20794
_CB_FROM_CB, _CB_FROM_CR = 1.01864, 0.11462
_CR_FROM_CB, _CR_FROM_CR = 0.07505, 1.02533
_BIAS = 64.0


def _mix(cb: U8, cr: U8, from_cb: float, from_cr: float, centre: float) -> U8:
    """centre + CHROMA * (from_cb * (cb - 128) + from_cr * (cr - 128)), for full-range cb / cr."""
    a, b = _CHROMA * from_cb, _CHROMA * from_cr
    return np.asarray(cv2.addWeighted(cb, a, cr, b, centre - 128.0 * (a + b)), np.uint8)


def rgb_to_i420_planes(rgb: U8) -> tuple[U8, U8, U8]:
    """Y (h, w), U and V (h/2, w/2) of an RGB uint8 image with even sides, BT.709 limited range."""
    h, w = rgb.shape[:2]
    small = cv2.resize(rgb, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    _, cr, cb = (np.asarray(c, np.uint8) for c in cv2.split(cv2.cvtColor(small, cv2.COLOR_RGB2YCrCb)))  # 601, full
    u = _mix(cb, cr, _CB_FROM_CB, _CB_FROM_CR, 128.0)
    v = _mix(cb, cr, _CR_FROM_CB, _CR_FROM_CR, 128.0)
    # luma's correction, biased by 64 to fit uint8 (it stays within +-40), one value per 2x2 block
    shift = cv2.resize(_mix(cb, cr, _Y_FROM_CB, _Y_FROM_CR, _BIAS), (w, h), interpolation=cv2.INTER_NEAREST)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    y = cv2.addWeighted(gray, _LUMA, shift, 1.0, 16.0 - _BIAS)
    return np.asarray(y, np.uint8), u, v
