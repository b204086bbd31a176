"""The inside of the mouth as four precomputed layers, painted once per rig in the photo's pixels.

A frame composites them between the moved inner lips (see :mod:`neura.render.cpu_mouth`); each layer
only moves rigidly, so the per-frame work is four small affine warps and alpha blends:

0. ``cavity``: the dark mouth behind everything (opaque), fixed to the skull;
1. ``jaw``: the lower teeth with the tongue's body behind them, carried by the jaw;
2. ``tip``: the tongue's tip (and its underside below it), which rises towards the upper teeth for
   l, n, t, d and th;
3. ``upper``: the upper teeth and the gum above them, fixed to the skull (they show more as the upper
   lip lifts, and the lips' rounding hides them).

Teeth are drawn tooth by tooth (central and lateral incisors, canines, premolars receding into the
buccal shadow): each has its own convex shading, dark contacts with its neighbours, a slightly
translucent edge and a scalloped gum line. Colours and side light come from the photo
(:func:`neura.avatar.mouth_interior.measure_light`), its fine grain is laid over every layer, and where
the photo shows its own teeth those pixels are used as they are. Geometry is in the face frame (``u``
along the eyes, ``v`` down, in units of ``w``, the mouth's half-width, where it says so).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from neura.avatar.geometry import F32, Box, FaceFrame, clip_box, frame_box, smoothstep
from neura.avatar.mouth_basis import UPPER_LIP_SHARE, MouthGeometry
from neura.avatar.mouth_interior import LUMA, PhotoLight, photo_teeth_mask

LAYERS = ("cavity", "jaw", "tip", "upper")  # stored in this order; drawn cavity, jaw, upper, tip
UPPER_SHOW_OF_WIDTH = 0.07  # upper incisors below the closed lips' line, of the mouth width
JAW_OF_LOWER_LIP = 0.6  # the lower teeth move this share of the lower lip's drop
LOWER_TEETH_FROM = 0.45  # the lower teeth start to show at this opening

# Teeth from the middle outwards: outer edge (in w), incisal edge offset (w, negative is up),
# crown height (w) and brightness. Upper: centrals, laterals, canines, two premolars, a molar.
_UPPER = np.array(
    [
        [0.30, 0.000, 0.42, 1.00],
        [0.52, -0.030, 0.36, 0.95],
        [0.72, -0.010, 0.42, 0.92],
        [0.88, -0.045, 0.32, 0.84],
        [1.02, -0.075, 0.30, 0.76],
        [1.20, -0.110, 0.28, 0.66],
    ],
    np.float32,
)
_LOWER = np.array(
    [
        [0.20, 0.000, 0.36, 0.90],
        [0.42, -0.010, 0.34, 0.88],
        [0.64, -0.035, 0.38, 0.84],
        [0.82, -0.060, 0.30, 0.76],
        [1.00, -0.090, 0.28, 0.68],
    ],
    np.float32,
)


@dataclass(frozen=True)
class MouthLayers:
    """The four layers over ``box`` (rig pixels) and how the moving ones move."""

    layers: npt.NDArray[np.uint8]  # (4, h, w, 4) RGBA, in LAYERS order
    box: Box
    motion: F32  # (2, 2): the jaw's move per unit of opening; the tongue tip's move at tongue == 1


def _tooth_index(au: F32, table: F32) -> tuple[npt.NDArray[np.intp], F32, F32]:
    """For |u| (in w): which tooth, the position across it (-1 .. 1) and its width (w)."""
    outer = table[:, 0]
    inner = np.concatenate([[0.0], outer[:-1]]).astype(np.float32)
    k = np.minimum(np.searchsorted(outer, au), len(table) - 1)
    width = outer[k] - inner[k]
    t = (2.0 * (au - inner[k]) / width - 1.0).astype(np.float32)
    return k, np.clip(t, -1.0, 1.0), width.astype(np.float32)


def _teeth(u: F32, v: F32, edge: F32, table: F32, w: float, *, upper: bool) -> tuple[F32, F32, F32, F32]:
    """Per pixel: teeth coverage, gum coverage (beyond the crowns), shade, and the depth from the edge.

    ``edge``: the incisal line (v) of the front teeth per column; each tooth adds its own offset (up for
    the upper teeth, towards the back of the arch), and the crowns' corners are rounded off."""
    au = np.abs(u) / np.float32(w)
    k, t, width = _tooth_index(au, table)
    rounded = 0.035 * np.abs(t) ** 6 + np.where(k == 2, 0.03 * np.abs(t) ** 1.5, 0.0)  # corners; canine cusp
    sign = 1.0 if upper else -1.0
    tooth_edge = edge + sign * (table[k, 1] - rounded) * w
    crown = table[k, 2] * w * (0.8 + 0.2 * (1.0 - t * t))  # gum scallops: papillae between the teeth
    depth = sign * (tooth_edge - v)  # rows from the edge into the tooth
    teeth = np.clip(depth + 0.5, 0.0, 1.0) * np.clip(crown - depth + 0.5, 0.0, 1.0)
    gum = np.clip(depth - crown + 0.5, 0.0, 1.0)
    contact_px = (1.0 - np.abs(t)) * width * np.float32(w) / 2.0
    contact = np.exp(-((contact_px / 0.6) ** 2))
    near_edge = 1.0 - smoothstep(0.0, 0.5 * w, depth)
    convex = 0.88 + 0.12 * np.sqrt(np.maximum(1.0 - t * t, 0.0))
    shade = table[k, 3] * convex * (1.0 - (0.16 + 0.14 * near_edge) * contact)
    shade = shade * (1.0 - 0.5 * smoothstep(0.35, 1.15, au))  # the arch turns away into shadow
    fade = 1.0 - smoothstep(1.0, 1.2, au)  # the buccal corridor: no teeth beyond the corners
    return (teeth * fade).astype(np.float32), (gum * fade).astype(np.float32), shade.astype(np.float32), depth


def _tiled(grain: F32, shape: tuple[int, int]) -> F32:
    """The photo's grain mirrored out to ``shape`` (deterministic, seamless)."""
    h, w = shape
    gh, gw = grain.shape
    reps = (-(-h // max(gh, 1)) + 1, -(-w // max(gw, 1)) + 1)
    row = np.concatenate([grain if i % 2 == 0 else grain[::-1] for i in range(reps[0])], axis=0)
    tile = np.concatenate([row if j % 2 == 0 else row[:, ::-1] for j in range(reps[1])], axis=1)
    return np.ascontiguousarray(tile[:h, :w], np.float32)


def _with_grain(rgb: F32, grain: F32, skin_luma: float) -> F32:
    """Add the photo's luminance detail, scaled to the layer's own brightness."""
    luma = np.maximum(rgb @ LUMA, 1.0)
    return (rgb + (grain * (luma / max(skin_luma, 1.0)))[..., None]).astype(np.float32)


def _rgba(rgb: F32, alpha: F32) -> npt.NDArray[np.uint8]:
    out = np.dstack([np.clip(rgb, 0, 255), np.clip(alpha, 0.0, 1.0) * 255.0])
    return np.round(out).astype(np.uint8)


def build_mouth_layers(
    image: npt.NDArray[np.uint8], pts: F32, frame: FaceFrame, g: MouthGeometry, open_gap_px: float, light: PhotoLight
) -> MouthLayers:
    """Paint the layers for this photo (head at rest, lips closed along the tear line)."""
    w = g.outer_half_px
    lower_drop = (1.0 - UPPER_LIP_SHARE) * open_gap_px
    lift = UPPER_LIP_SHARE * open_gap_px
    v_top = float(min(g.v_up.min(), g.tear(np.zeros(1, np.float32))[0])) - lift - 0.12 * w - 3.0
    v_bottom = float(g.v_lo.max()) + open_gap_px + 0.35 * w + 4.0
    box = clip_box(frame_box(frame, -1.3 * w, 1.3 * w, v_top, v_bottom), (0, 0, image.shape[1], image.shape[0]))
    u, v = frame.grid_uv(box)
    shape = u.shape
    grain = _tiled(light.grain, (shape[0], shape[1]))
    p = light.palette
    side = 1.0 + light.side_light * np.clip(u / w, -1.2, 1.2)  # the photo's side light
    tear = g.tear(u)

    # 0: cavity, darkest under the upper teeth and in the corners, a little light on the floor
    corner = 1.0 - 0.55 * smoothstep(0.3 * w, 1.1 * w, np.abs(u))
    floor = 0.75 + 0.55 * smoothstep(tear + 0.15 * w, tear + 0.7 * w, v) * np.exp(-((u / (0.7 * w)) ** 2))
    cavity = p.cavity * (corner * floor * side)[..., None]
    cavity_a = np.ones(shape, np.float32)

    # 1: the jaw: the tongue's body (a low dome behind the lower teeth), then the lower teeth
    lower_edge = tear + (LOWER_TEETH_FROM * (1.0 - JAW_OF_LOWER_LIP) * lower_drop)
    lo_teeth, lo_gum, lo_shade, lo_depth = _teeth(u, v, lower_edge, _LOWER, w, upper=False)
    dome_top = lower_edge - 0.16 * w + 0.45 * w * (u / (0.85 * w)) ** 2
    body = np.clip(v - dome_top + 0.5, 0.0, 1.0) * (1.0 - smoothstep(0.75 * w, 0.95 * w, np.abs(u)))
    below_top = v - dome_top
    groove = 1.0 - 0.25 * np.exp(-((u / (0.05 * w)) ** 2)) * smoothstep(0.0, 0.2 * w, below_top)
    tongue_shade = (0.7 + 0.35 * smoothstep(0.0, 0.25 * w, below_top)) * groove * corner
    rgb = p.tongue * tongue_shade[..., None]
    teeth_rgb = p.teeth * (lo_shade * 0.9 * (1.0 - 0.3 * smoothstep(0.0, 0.3 * w, lo_depth)))[..., None]
    jaw_rgb = rgb * (1.0 - lo_teeth[..., None]) + teeth_rgb * lo_teeth[..., None]
    jaw_rgb = jaw_rgb * (1.0 - lo_gum[..., None]) + (p.gum * 0.8) * lo_gum[..., None]
    jaw_a = np.maximum(np.maximum(body, lo_teeth), lo_gum)

    # 2: the tongue tip (raised for l n t d th), its underside darker below it
    tip_top = lower_edge + 0.04 * w + 0.5 * w * (u / (0.45 * w)) ** 2
    tip_a = np.clip(v - tip_top + 0.5, 0.0, 1.0) * (1.0 - smoothstep(0.35 * w, 0.5 * w, np.abs(u)))
    below_tip = v - tip_top
    tip_shade = (1.02 - 0.45 * smoothstep(0.08 * w, 0.45 * w, below_tip)) * (1.0 - 0.3 * (u / (0.45 * w)) ** 2)
    tip_rgb = p.tongue * tip_shade[..., None]

    # 3: the upper teeth and gum, hanging from the skull
    up_edge = tear + UPPER_SHOW_OF_WIDTH * 2.0 * w * g.profile(u, 1.1 * w, power=3.0)
    up_teeth, gum, up_shade, up_depth = _teeth(u, v, up_edge, _UPPER, w, upper=True)
    translucent = smoothstep(0.0, 0.07 * w, up_depth)  # the incisal edge lets the dark through a little
    enamel = p.teeth * (up_shade * side * (0.82 + 0.18 * translucent))[..., None]
    gum_rgb = p.gum * (side * (0.8 + 0.2 * smoothstep(0.0, 0.1 * w, -up_depth)))[..., None]
    upper_rgb = enamel * up_teeth[..., None] + gum_rgb * gum[..., None]
    upper_rgb = upper_rgb / np.maximum(up_teeth + gum, 1e-3)[..., None]
    upper_a = np.maximum(up_teeth, gum)
    if light.photo_teeth:
        upper_rgb, upper_a = _photo_teeth(image, pts, box, upper_rgb, upper_a)

    layers = np.stack(
        [
            _rgba(_with_grain(cavity, grain * 0.5, light.skin_luma), cavity_a),
            _rgba(_with_grain(jaw_rgb, grain, light.skin_luma), jaw_a),
            _rgba(_with_grain(tip_rgb, grain, light.skin_luma), tip_a),
            _rgba(_with_grain(upper_rgb, grain, light.skin_luma), upper_a),
        ]
    )
    jaw = JAW_OF_LOWER_LIP * lower_drop * frame.ey
    centre = np.zeros(1, np.float32)
    up_centre = float(g.tear(centre)[0]) + UPPER_SHOW_OF_WIDTH * 2.0 * w
    tip_rest = float(g.tear(centre)[0]) + LOWER_TEETH_FROM * (1.0 - JAW_OF_LOWER_LIP) * lower_drop + 0.04 * w
    tip_raise = (up_centre - 0.06 * w) - tip_rest  # at tongue 1 (th) the tip covers the incisors' edge
    motion = np.stack([jaw, tip_raise * frame.ey]).astype(np.float32)
    return MouthLayers(np.ascontiguousarray(layers), box, motion)


def _photo_teeth(image: npt.NDArray[np.uint8], pts: F32, box: Box, rgb: F32, alpha: F32) -> tuple[F32, F32]:
    """Lay the photo's own visible teeth over the drawn ones (they are where the skull holds them)."""
    x0, y0, x1, y1 = box
    own = photo_teeth_mask(image, pts)[y0:y1, x0:x1].astype(np.uint8)
    if not own.any():
        return rgb, alpha
    closed = cv2.morphologyEx(own, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    a = cv2.GaussianBlur(closed.astype(np.float32), (0, 0), 0.8)[..., None]
    photo = image[y0:y1, x0:x1].astype(np.float32)
    return (rgb * (1.0 - a) + photo * a).astype(np.float32), np.maximum(alpha, a[..., 0]).astype(np.float32)
