"""Indices into mediapipe's 478-point face mesh, and measurements made from them.

"Left" and "right" are the subject's own (as in ARKit's blend shapes): the subject's left eye is on
the image's right in an unmirrored photo.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FOREHEAD = 10
CHIN = 152
NOSE_TIP = 1
SUBNASALE = 2
CHEEK_RIGHT = 234  # image left
CHEEK_LEFT = 454  # image right

MOUTH_CORNER_RIGHT = 61  # image left
MOUTH_CORNER_LEFT = 291
UPPER_LIP_INNER_MID = 13
LOWER_LIP_INNER_MID = 14
UPPER_LIP_OUTER_MID = 0
LOWER_LIP_OUTER_MID = 17

# Inner lip, image left to right. The two rows share the corners (78, 308).
INNER_LIP_UPPER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
INNER_LIP_LOWER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
OUTER_LIP_UPPER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
OUTER_LIP_LOWER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
# The inner-lip polygon (upper row left to right, then the lower row back), for the mouth cavity.
INNER_LIP_LOOP = INNER_LIP_UPPER + tuple(reversed(INNER_LIP_LOWER[1:-1]))

# Eyes, image left to right along each lid; the corners are shared.
RIGHT_EYE_UPPER = (33, 246, 161, 160, 159, 158, 157, 173, 133)
RIGHT_EYE_LOWER = (33, 7, 163, 144, 145, 153, 154, 155, 133)
LEFT_EYE_UPPER = (362, 398, 384, 385, 386, 387, 388, 466, 263)
LEFT_EYE_LOWER = (362, 382, 381, 380, 374, 373, 390, 249, 263)
RIGHT_BROW = (46, 53, 52, 65, 55, 70, 63, 105, 66, 107)
LEFT_BROW = (285, 295, 282, 283, 276, 336, 296, 334, 293, 300)
RIGHT_BROW_LOWER = (46, 53, 52, 65, 55)
LEFT_BROW_LOWER = (285, 295, 282, 283, 276)

# The face outline, clockwise from the top of the forehead.
FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)  # fmt: skip

Points = npt.NDArray[np.float32]


def mouth_width_px(pts: Points) -> float:
    return float(np.linalg.norm(pts[MOUTH_CORNER_LEFT] - pts[MOUTH_CORNER_RIGHT]))


def mouth_gap_px(pts: Points) -> float:
    """Distance between the inner lips' midpoints (13 and 14): 0 when the lips touch."""
    return float(np.linalg.norm(pts[LOWER_LIP_INNER_MID] - pts[UPPER_LIP_INNER_MID]))


def mouth_gap_ratio(pts: Points) -> float:
    """Inner-lip gap over mouth width: about 0 closed, 0.3-0.4 for a wide "aa"."""
    return mouth_gap_px(pts) / max(mouth_width_px(pts), 1e-6)


def eye_aspect_ratio(pts: Points, upper: tuple[int, ...], lower: tuple[int, ...]) -> float:
    """Mean lid opening over the eye's width (about 0.25-0.35 open, under 0.1 closed)."""
    width = float(np.linalg.norm(pts[upper[-1]] - pts[upper[0]]))
    opening = float(np.mean(np.linalg.norm(pts[list(lower[2:-2])] - pts[list(upper[2:-2])], axis=1)))
    return opening / max(width, 1e-6)


def eyes_aspect_ratio(pts: Points) -> float:
    """Both eyes' aspect ratios, averaged."""
    return 0.5 * (
        eye_aspect_ratio(pts, RIGHT_EYE_UPPER, RIGHT_EYE_LOWER) + eye_aspect_ratio(pts, LEFT_EYE_UPPER, LEFT_EYE_LOWER)
    )
