"""Mouth and jaw warp fields (see :mod:`neura.avatar.geometry` for the conventions).

Fields, in :data:`MOUTH_FIELDS` order: ``close_gap`` closes the photo's own lip gap (always applied,
so silence shows closed lips even when the photo's mouth was open); ``open`` drops the jaw, lower lip
and chin and lifts the upper lip a little (one unit parts the lips by ``open_gap_px`` in the middle);
``spread`` pulls the corners out and up; ``round`` draws them in and makes the lips taller; ``press``
thins the lips against each other; ``open_round`` (strength open x round) and ``close_round``
(strength round) move the jaw's two fields along with the rounding: the lips part (or close) where
rounding has drawn them, not where the photo had them (without them a rounded mouth shows a seam, or
tears the photo's wider lip line, beyond its drawn corners).

The lips part along a *tear line* where a selector between the upper and the lower face steps sharply
inside the mouth and smoothly beyond its corners (the cheeks stretch). The mouth interior is drawn
over the gap, so the stretched pixels inside it are never seen.
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
    falloff,
    frame_box,
    smoothstep,
)

MOUTH_FIELDS = ("close_gap", "open", "spread", "round", "press", "open_round", "close_round")
OPEN_GAP_OF_MOUTH_WIDTH = 0.40  # a full "aa": inner-lip gap / mouth width
UPPER_LIP_SHARE = 0.15  # of an opening, the share taken by the upper lip (the rest is the jaw)
CLOSE_UPPER_SHARE = 0.35  # of closing the photo's gap, the share taken by the upper lip
CHIN_OF_LOWER_LIP = 0.7  # the chin moves this much of the lower lip's movement
ROUND_OF_HALF_WIDTH = 0.33  # a full "oo" draws each corner in by this share of the half-width


@dataclass
class MouthGeometry:
    """The lips and jaw in the face frame, measured from the photo's landmarks."""

    u_up: F32
    v_up: F32
    u_lo: F32
    v_lo: F32
    inner_half_px: float  # half the distance between the inner corners
    outer_half_px: float  # half the mouth width
    lower_lip_px: float  # lower lip thickness
    v_subnasale: float
    v_upper_border: float  # the upper lip's outer edge, middle
    face_half_px: float
    jaw_u: F32  # the lower face outline as v(u)
    jaw_v: F32
    corner_lift_px: float  # how far a smile holds the corners above the lips' middle (0 if not)

    @classmethod
    def measure(cls, frame: FaceFrame, pts: F32) -> MouthGeometry:
        u_up, v_up = contour(frame, pts, lm.INNER_LIP_UPPER)
        u_lo, v_lo = contour(frame, pts, lm.INNER_LIP_LOWER)
        uc, vc = frame.uv(pts)
        oval = np.array(lm.FACE_OVAL)
        lower = oval[vc[oval] > vc[lm.NOSE_TIP]]
        order = np.argsort(uc[lower])
        return cls(
            u_up,
            v_up,
            u_lo,
            v_lo,
            inner_half_px=float(uc[308] - uc[78]) / 2,
            outer_half_px=lm.mouth_width_px(pts) / 2,
            lower_lip_px=max(float(vc[lm.LOWER_LIP_OUTER_MID] - vc[lm.LOWER_LIP_INNER_MID]), 2.0),
            v_subnasale=float(vc[lm.SUBNASALE]),
            v_upper_border=float(vc[lm.UPPER_LIP_OUTER_MID]),
            face_half_px=float(uc[lm.CHEEK_LEFT] - uc[lm.CHEEK_RIGHT]) / 2,
            jaw_u=uc[lower][order],
            jaw_v=vc[lower][order],
            corner_lift_px=max(
                float(vc[[lm.UPPER_LIP_INNER_MID, lm.LOWER_LIP_INNER_MID]].mean())
                - float(vc[[lm.MOUTH_CORNER_RIGHT, lm.MOUTH_CORNER_LEFT]].mean()),
                0.0,
            ),
        )

    def gap(self, u: F32) -> F32:
        """The photo's own lip gap at u (0 beyond the corners)."""
        lo = np.interp(u, self.u_lo, self.v_lo, left=0, right=0)
        up = np.interp(u, self.u_up, self.v_up, left=0, right=0)
        return np.maximum(lo - up, 0.0).astype(np.float32)

    def tear(self, u: F32) -> F32:
        """Where the lips meet once closed: the upper lip's edge plus its share of the gap."""
        up = np.interp(u, self.u_up, self.v_up).astype(np.float32)
        return up + np.float32(CLOSE_UPPER_SHARE) * self.gap(u)

    def centre_gap(self) -> float:
        return float(self.gap(np.zeros(1, np.float32))[0])

    @staticmethod
    def profile(u: F32, half: float, power: float = 2.2) -> F32:
        """How far the lips part along the mouth: 1 in the middle, 0 at the corners."""
        x = np.clip(np.abs(u) / max(half, 1.0), 0.0, 1.0)
        return np.sqrt(1.0 - x**power).astype(np.float32)


def jaw_motion(
    g: MouthGeometry,
    u: F32,
    v: F32,
    lower_px: F32,
    upper_px: F32,
    centre_px: float,
    zones: LipZones,
    side: int = 0,
) -> tuple[F32, F32]:
    """Forward (du, dv) of a jaw movement: the lower lip moves down by ``lower_px`` (per u), chin and
    jaw by ``centre_px``, the upper lip up by ``upper_px``. ``side``: 0 uses the tear selector; +1
    evaluates just below the tear line, -1 just above (for points on the lips).

    Fields are evaluated at *output* pixels and used as backward maps, so each lip moves rigidly only
    if its displacement is constant over every row the lip can occupy: ``zones`` sizes those rows for
    the widest opening; the change to the jaw's (or the nose's) movement happens beyond them."""
    height = zones.height
    rel = v - g.tear(u)
    beyond = np.maximum(np.abs(u) - g.inner_half_px, 0.0)
    if side == 0:
        # a hard step between the lips (no row may sample the photo's gap), softening beyond them
        band = np.minimum(1.5 * beyond, 0.3 * height)
        soft = smoothstep(-0.5, 0.5, rel / np.maximum(band, 0.75))
        below = np.where(band < 0.75, (rel >= 0).astype(np.float32), soft)
    else:
        below = np.full_like(u, 1.0 if side > 0 else 0.0)
    # lower face: from the lip edge's own profile to the whole jaw's movement deeper down; beside the
    # mouth the change spreads over a widening fan, so the cheeks stretch rather than tear
    lip_rows = zones.lower_rows(u)
    deep = smoothstep(lip_rows, lip_rows + 1.4 * g.lower_lip_px + 1.0 * beyond, rel)
    drop = lower_px + (centre_px - lower_px) * deep
    fw = g.face_half_px
    au = np.abs(u)
    lateral = (1.0 - 0.55 * smoothstep(0.35 * fw, fw, au)) * (1.0 - smoothstep(fw, fw + 0.22 * height, au))
    jaw_line = np.interp(u, g.jaw_u, g.jaw_v).astype(np.float32)
    neck = 1.0 - smoothstep(jaw_line, jaw_line + 0.21 * height, v)
    # upper lip: lifts at its edge, fading to nothing at the nose
    top = g.v_subnasale
    lift = upper_px * smoothstep(top, max(zones.upper_top, top + 1.0), v)
    dv = below * drop * lateral * neck - (1.0 - below) * lift
    # the corners draw in a little as the jaw drops
    w = g.outer_half_px
    du = -0.15 * centre_px * (u / w) * np.exp(-((u / (1.6 * w)) ** 2)) * falloff(v, 0.5 * w, 1.2 * w)
    return du.astype(np.float32), dv.astype(np.float32)


def lip_shapes(g: MouthGeometry, u: F32, v: F32) -> list[tuple[F32, F32]]:
    """Forward (du, dv) of spread, round and press at unit strength. Vertical changes are measured
    from the line where the closed lips meet, so that line stays put and nothing steps across it (a
    step there would leave a seam where the lips are not drawn apart).

    ``round`` draws the corners in (about 30 % of the mouth's width, so an "oo" is about two thirds
    as wide as an "ee", as real speakers' lips are), lowers the corners a smile holds up, and makes
    both lips taller and fuller as they push forward; ``spread`` pulls the corners out."""
    w = g.outer_half_px
    au = np.abs(u)
    reach = np.where(au <= w, u / w, np.sign(u) * np.exp(-(((au - w) / (0.7 * w)) ** 2))).astype(np.float32)
    line = (v - g.tear(u)).astype(np.float32)  # the lips' own line, which a smile curves up at the corners
    near = falloff(line, 0.5 * w, 0.9 * w)
    lips = np.exp(-((u / (1.05 * w)) ** 4) - (line / (0.55 * w)) ** 2).astype(np.float32)
    unsmile = 0.9 * g.corner_lift_px * reach * reach * falloff(line, 0.45 * w, 0.7 * w)
    return [
        (0.2 * w * reach * near, -0.04 * w * reach**2 * near),  # spread
        (-ROUND_OF_HALF_WIDTH * w * reach * near, 0.3 * line * lips + unsmile),  # round
        (-0.03 * w * reach * near, -0.25 * line * lips),  # press
    ]


def _inverted(g: MouthGeometry, u: F32, v: F32, index: int, rounds: int = 3) -> tuple[F32, F32]:
    """The backward map (du, dv) whose output pixel shows the source pixel that ``lip_shapes[index]``
    moves there: large moves (rounding draws the corners in by a third) warped as forward moves
    would fall short by their own gradient, and the lips would not meet the drawn inner-lip polygon."""
    bu, bv = (-c for c in lip_shapes(g, u, v)[index])
    for _ in range(rounds):
        fu, fv = lip_shapes(g, u + bu, v + bv)[index]
        bu, bv = -fu, -fv
    return bu.astype(np.float32), bv.astype(np.float32)


@dataclass
class MouthBasis:
    box: Box
    fields: F32  # (len(MOUTH_FIELDS), h, w, 2) backward displacements over ``box``
    open_gap_px: float
    lip_points: F32  # (len(INNER_LIP_LOOP), 2) the inner-lip polygon in the photo
    lip_motion: F32  # (len(MOUTH_FIELDS), len(INNER_LIP_LOOP), 2) forward motion of those points
    geometry: MouthGeometry


@dataclass(frozen=True)
class LipZones:
    """Rows (relative to the tear line) that the lips can occupy at the widest opening."""

    g: MouthGeometry
    open_lower_px: float  # the lower lip's drop at open == 1
    open_upper_px: float
    height: float

    def lower_rows(self, u: F32) -> F32:
        reach = self.open_lower_px + self.g.lower_lip_px + 1.5
        return (reach * self.g.profile(u, self.g.outer_half_px, power=2.0)).astype(np.float32)

    @property
    def upper_top(self) -> float:
        """Above this v the upper lip's lift fades towards the nose."""
        return self.g.v_upper_border - self.open_upper_px - 1.5


class _Motions:
    """All mouth fields' forward motions at given points, in MOUTH_FIELDS order."""

    def __init__(self, g: MouthGeometry, height: float, open_gap: float) -> None:
        self.g, self.height, self.open_gap = g, height, open_gap
        us = UPPER_LIP_SHARE
        self.zones = LipZones(g, (1 - us) * open_gap, us * open_gap, height)

    def __call__(self, u: F32, v: F32, side: int) -> list[tuple[F32, F32]]:
        g = self.g
        # close a little past touching, so the photo's lip-edge pixels (half teeth) are not seen
        gap = g.gap(u)
        gap = gap + np.minimum(gap, 1.2)
        centre_gap = g.centre_gap() + min(g.centre_gap(), 1.2)
        cs, us = CLOSE_UPPER_SHARE, UPPER_LIP_SHARE
        close_gap = jaw_motion(
            g, u, v, -(1 - cs) * gap, -cs * gap, -(1 - cs) * centre_gap * CHIN_OF_LOWER_LIP, self.zones, side
        )
        lower = (1 - us) * self.open_gap
        opening = jaw_motion(
            g,
            u,
            v,
            lower * g.profile(u, g.inner_half_px),
            us * self.open_gap * g.profile(u, g.outer_half_px, power=2.0),
            lower * CHIN_OF_LOWER_LIP,
            self.zones,
            side,
        )
        return [close_gap, opening, *lip_shapes(g, u, v)]


def build_mouth_basis(pts: F32, frame: FaceFrame, limit: Box) -> MouthBasis:
    """The mouth fields over a box around mouth, jaw and chin, kept inside ``limit``."""
    g = MouthGeometry.measure(frame, pts)
    height = frame.height_px
    open_gap = min(OPEN_GAP_OF_MOUTH_WIDTH * 2 * g.outer_half_px, 0.17 * height)
    motions = _Motions(g, height, open_gap)
    chin_v = float(frame.uv(pts[[lm.CHIN]])[1][0])
    reach_u = g.face_half_px + 0.22 * height
    box = clip_box(frame_box(frame, -reach_u, reach_u, g.v_subnasale - 0.06 * height, chin_v + 0.26 * height), limit)
    u, v = frame.grid_uv(box)
    window = box_window((box[3] - box[1], box[2] - box[0]), 6)[..., None]
    backward = [(-du, -dv) for du, dv in motions(u, v, 0)[:2]]  # the jaw's fields are tuned as they are
    backward += [_inverted(g, u, v, 0), _inverted(g, u, v, 1)]  # spread, round
    press_u, press_v = lip_shapes(g, u, v)[2]
    backward.append((-press_u, -press_v))  # press: too small to need inverting
    # the jaw's fields taken where rounding brings each pixel from: they then open and close the lips
    # as the photo had them, wherever rounding has moved them (the lips' points already move so)
    closed, opened = motions(u + backward[3][0], v + backward[3][1], 0)[:2]
    backward.append((-opened[0] - backward[1][0], -opened[1] - backward[1][1]))
    backward.append((-closed[0] - backward[0][0], -closed[1] - backward[0][1]))
    fields = np.stack([frame.to_xy(bu, bv) * window for bu, bv in backward]).astype(np.float32)

    # the inner-lip points move with the side of the tear they are on; the corners take the mean
    upper = np.array(lm.INNER_LIP_UPPER)
    lower = np.array(lm.INNER_LIP_LOWER)
    moved = []
    for idx, side in ((upper, -1), (lower, +1)):
        uu, vv = frame.uv(pts[idx])
        forward = motions(uu, vv, side)
        forward += [(np.zeros_like(uu), np.zeros_like(vv))] * 2  # a lip point opens and closes as it was
        moved.append(np.stack([frame.to_xy(du, dv) for du, dv in forward]))
    up_motion, lo_motion = moved
    corners = 0.5 * (up_motion[:, [0, -1]] + lo_motion[:, [0, -1]])
    up_motion[:, [0, -1]] = corners
    lip_motion = np.concatenate([up_motion, lo_motion[:, -2:0:-1]], axis=1).astype(np.float32)
    lip_points = pts[list(lm.INNER_LIP_LOOP)].astype(np.float32)
    return MouthBasis(box, fields, float(open_gap), lip_points, lip_motion, g)
