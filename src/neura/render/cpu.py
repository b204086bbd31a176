"""The CPU warp: one ``cv2.remap`` of the head ROI per frame, plus the mouth interior.

Per frame the backward map is built as: the ROI's pixel grid + the masked head similarity (computed at
a quarter of the resolution and upsampled) + the mouth and eye fields, each added on its own small box
shifted along with the head; then the mouth interior is composited from the rig's precomputed layers
(:mod:`neura.render.cpu_mouth`). Everything outside the ROI is copied from the rig's image untouched
(or, with ``render(..., out=previous_frame)``, not even copied). Measured on this project's 2-core
machine, one core: ~2.5 ms per frame at 512 px, ~3.6 ms at 640 px (``bench/avatar_render.py``).
"""

from __future__ import annotations

import math
import threading
import weakref
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from neura.avatar import landmarks as lm
from neura.avatar.eye_basis import HEAD_MASK_STEP_PX
from neura.avatar.eyelids import Blink, apply_blink, plan_blink
from neura.avatar.geometry import Box
from neura.avatar.mouth_interior import MouthPalette, Overlay, apply_overlay, lip_line_overlay
from neura.avatar.rig import AvatarRig
from neura.media import HeadPose, MouthPose
from neura.render.cpu_mouth import InteriorPose, interior_overlay

F32 = npt.NDArray[np.float32]
RGBFrame = npt.NDArray[np.uint8]
_LIP_MID_UP, _LIP_MID_LO = 5, 15  # landmarks 13 and 14 in INNER_LIP_LOOP


@dataclass
class WarpState:
    """Per-rig arrays in the layout the CPU path wants (derived from the rig, never saved)."""

    roi_shape: tuple[int, int]
    grid_low: F32  # (h/4 + 2, w/4 + 2, 2) absolute source coordinates at the quarter-resolution samples
    head_fields: F32  # (4, h/4 + 2, w/4 + 2, 2): m*(X, Y), m*(-Y, X), m*(1, 0), m*(0, 1) about the pivot
    mouth_fields: list[F32]
    mouth_box: Box  # relative to the ROI
    mouth_anchor: tuple[tuple[float, float], float]  # a point of the mouth and the head mask's weight there
    eye_fields: list[F32]
    eye_box: Box
    eye_anchor: tuple[tuple[float, float], float]
    palette: MouthPalette
    lip_motion: F32  # (n_fields, n_points * 2): the rig's lip motion, flattened for one matmul
    face_down: F32  # unit vector from forehead to chin


def _relative(box: Box, roi: Box) -> Box:
    return box[0] - roi[0], box[1] - roi[1], box[2] - roi[0], box[3] - roi[1]


def prepare_state(rig: AvatarRig) -> WarpState:
    x0, y0, x1, y1 = rig.roi
    step = HEAD_MASK_STEP_PX
    # quarter-resolution samples sit at 4j + 1.5; one extra ring around them lets cv2.resize
    # interpolate (never clamp) right up to the ROI's edge, so the linear pixel grid comes out exact
    gx, gy = np.meshgrid(
        np.arange(x0 - step, x1 + step, step, dtype=np.float32) + np.float32((step - 1) / 2),
        np.arange(y0 - step, y1 + step, step, dtype=np.float32) + np.float32((step - 1) / 2),
    )
    qx, qy = gx - rig.head_pivot[0], gy - rig.head_pivot[1]
    m = np.pad(rig.head_mask, 1)
    zero = np.zeros_like(m)
    head = np.stack(
        [
            np.dstack([m * qx, m * qy]),
            np.dstack([-m * qy, m * qx]),
            np.dstack([m, zero]),
            np.dstack([zero, m]),
        ]
    ).astype(np.float32)

    def anchor(point: F32) -> tuple[tuple[float, float], float]:
        """A point and the head mask's weight there (how much of the head's motion it follows)."""
        qi = min(max(int((point[1] - y0) // step) + 1, 0), m.shape[0] - 1)
        qj = min(max(int((point[0] - x0) // step) + 1, 0), m.shape[1] - 1)
        return (float(point[0]), float(point[1])), float(m[qi, qj])

    down = rig.landmarks[lm.CHIN] - rig.landmarks[lm.FOREHEAD]
    return WarpState(
        roi_shape=(y1 - y0, x1 - x0),
        grid_low=np.ascontiguousarray(np.dstack([gx, gy]), dtype=np.float32),
        head_fields=head,
        mouth_fields=[np.ascontiguousarray(f, dtype=np.float32) for f in rig.mouth_fields],
        mouth_box=_relative(rig.mouth_box, rig.roi),
        mouth_anchor=anchor(rig.lip_points.mean(axis=0)),
        eye_fields=[np.ascontiguousarray(f, dtype=np.float32) for f in rig.eye_fields],
        eye_box=_relative(rig.eye_box, rig.roi),
        eye_anchor=anchor(rig.eyelid_points.reshape(-1, 2).mean(axis=0)),
        palette=rig.mouth_palette,
        lip_motion=np.ascontiguousarray(rig.lip_motion.reshape(len(rig.lip_motion), -1), dtype=np.float32),
        face_down=(down / max(float(np.linalg.norm(down)), 1e-6)).astype(np.float32),
    )


@dataclass(frozen=True)
class HeadMotion:
    """A head pose as a similarity about the pivot: forward q -> pivot + R (q - pivot) + t, where
    R = scale * rotation(roll) = [[c, -s], [s, c]]."""

    c: float
    s: float
    tx: float
    ty: float
    pivot_x: float
    pivot_y: float

    @classmethod
    def of(cls, head: HeadPose, pivot: F32) -> HeadMotion:
        theta = math.radians(head.roll_deg)
        scale = head.scale if head.scale > 0 else 1.0
        return cls(
            math.cos(theta) * scale,
            math.sin(theta) * scale,
            head.dx_px,
            head.dy_px,
            float(pivot[0]),
            float(pivot[1]),
        )

    def backward_coefficients(self) -> tuple[float, float, float, float]:
        """(a, b, tx, ty) with backward displacement = a (X, Y) + b (-Y, X) + (tx, ty), masked."""
        norm = self.c * self.c + self.s * self.s
        ic, is_ = self.c / norm, -self.s / norm  # R^-1 = [[ic, -is], [is, ic]]
        return ic - 1.0, is_, -(ic * self.tx - is_ * self.ty), -(is_ * self.tx + ic * self.ty)

    def shift_at(self, x: float, y: float, weight: float) -> tuple[float, float]:
        """Forward displacement of one point by ``weight`` of the head motion (plain floats: fast)."""
        dx, dy = x - self.pivot_x, y - self.pivot_y
        return (
            weight * ((self.c - 1.0) * dx - self.s * dy + self.tx),
            weight * (self.s * dx + (self.c - 1.0) * dy + self.ty),
        )

    def affine(self, weight: float) -> npt.NDArray[np.float64]:
        """``weight`` of the motion as a (2, 3) forward affine map (rig pixels -> frame pixels)."""
        k, ks = weight * (self.c - 1.0), weight * self.s
        return np.array(
            [
                [1.0 + k, -ks, weight * self.tx - k * self.pivot_x + ks * self.pivot_y],
                [ks, 1.0 + k, weight * self.ty - ks * self.pivot_x - k * self.pivot_y],
            ]
        )

    def move(self, pts: F32, weight: float) -> F32:
        """Forward-move points (..., 2) by ``weight`` (the head mask there) of the head motion."""
        k = weight * (self.c - 1.0)
        ks = weight * self.s
        x = pts[..., 0] - np.float32(self.pivot_x)
        y = pts[..., 1] - np.float32(self.pivot_y)
        moved = np.array(pts, dtype=np.float32)
        moved[..., 0] += k * x - ks * y + np.float32(weight * self.tx)
        moved[..., 1] += ks * x + k * y + np.float32(weight * self.ty)
        return moved


def mouth_coefficients(mouth: MouthPose) -> list[float]:
    """Strength of each mouth field (see ``mouth_basis.MOUTH_FIELDS``) for a pose."""
    close = min(max(mouth.close, 0.0), 1.0)
    opening = min(max(mouth.open, 0.0), 1.0) * (1.0 - close)
    rounding = min(max(mouth.round, 0.0), 1.0)
    return [1.0, opening, min(max(mouth.spread, 0.0), 1.0), rounding, close, opening * rounding, rounding]


def _clamped(v: float) -> float:
    return min(max(v, 0.0), 1.0)


_PREPARED: weakref.WeakKeyDictionary[AvatarRig, WarpState] = weakref.WeakKeyDictionary()
_PREPARED_LOCK = threading.Lock()


class CpuBackend:
    """The warp, one frame per call: renders with numpy and OpenCV on the calling thread (thread-safe;
    scratch is per thread). :class:`neura.render.cpu_renderer.CpuRenderer` puts the seam around it.

    The first frame of a rig prepares its arrays (a few ms), shared by every instance
    until the rig is garbage-collected."""

    def __init__(self) -> None:
        self._local = threading.local()

    @staticmethod
    def state(rig: AvatarRig) -> WarpState:
        with _PREPARED_LOCK:
            state = _PREPARED.get(rig)
        if state is None:
            state = prepare_state(rig)
            with _PREPARED_LOCK:
                state = _PREPARED.setdefault(rig, state)
        return state

    def _output(self, rig: AvatarRig, out: RGBFrame | None) -> RGBFrame:
        """``out`` holding the rig's image outside the ROI (copied only when it might not)."""
        if out is None:
            return rig.image.copy()
        if out.shape != rig.image.shape or out.dtype != np.uint8:
            raise ValueError(f"out must be uint8 {rig.image.shape}, got {out.dtype} {out.shape}")
        filled: dict[int, tuple[weakref.ref[RGBFrame], weakref.ref[AvatarRig]]]
        filled = self._local.__dict__.setdefault("filled", {})
        known = filled.get(id(out))
        if known is None or known[0]() is not out or known[1]() is not rig:
            np.copyto(out, rig.image)
            if len(filled) > 64:  # a few streams of a few buffers each, per thread
                filled.clear()
            filled[id(out)] = (weakref.ref(out), weakref.ref(rig))
        return out

    def _scratch(self, name: str, shape: tuple[int, ...]) -> F32:
        buffers: dict[str, F32] = self._local.__dict__.setdefault("buffers", {})
        buf = buffers.get(name)
        if buf is None or buf.shape != shape:
            buf = np.empty(shape, np.float32)
            buffers[name] = buf
        return buf

    def render(self, rig: AvatarRig, mouth: MouthPose, head: HeadPose, *, out: RGBFrame | None = None) -> RGBFrame:
        """One frame, a new array, or written into ``out`` (same shape as ``rig.image``) and returned.

        Passing back a frame this backend rendered for the same rig saves copying the static part
        (only the ROI is rewritten): the fast path for a render-then-compose loop."""
        state = self.state(rig)
        motion = HeadMotion.of(head, rig.head_pivot)
        h, w = state.roi_shape
        pad = HEAD_MASK_STEP_PX

        # the map: pixel grid + masked head similarity, built at quarter resolution and upsampled
        low = self._scratch("low", state.grid_low.shape)
        np.copyto(low, state.grid_low)
        for field, coef in zip(state.head_fields, motion.backward_coefficients(), strict=True):
            cv2.scaleAdd(field, coef, low, dst=low)
        big = self._scratch("map", (h + 2 * pad, w + 2 * pad, 2))
        cv2.resize(low, (w + 2 * pad, h + 2 * pad), dst=big, interpolation=cv2.INTER_LINEAR)
        full = big[pad:-pad, pad:-pad]

        # mouth and eyes: their fields, shifted with the head (whole pixels) and added on their boxes
        coefs = mouth_coefficients(mouth)
        self._add_fields(full, state.mouth_fields, coefs, state.mouth_box, state.mouth_anchor, motion)
        self._add_fields(full, state.eye_fields, [_clamped(head.brow)], state.eye_box, state.eye_anchor, motion)

        out = self._output(rig, out)
        x0, y0, x1, y1 = rig.roi
        view = out[y0:y1, x0:x1]
        cv2.remap(rig.image, full, None, cv2.INTER_LINEAR, dst=view, borderMode=cv2.BORDER_REFLECT)  # type: ignore[call-overload]
        overlays, blinks = drawn_parts(rig, state, mouth, head, motion, coefs)
        for overlay in overlays:
            apply_overlay(out, overlay)
        for blink in blinks:
            apply_blink(out, blink)
        return out

    @staticmethod
    def _add_fields(
        full: F32,
        fields: list[F32],
        coefs: list[float],
        box: Box,
        anchor: tuple[tuple[float, float], float],
        motion: HeadMotion,
    ) -> None:
        sx, sy = field_shift(full.shape, box, anchor, motion)
        target = full[box[1] + sy : box[3] + sy, box[0] + sx : box[2] + sx]
        for field, coef in zip(fields, coefs, strict=True):
            if coef != 0.0:
                cv2.scaleAdd(field, coef, target, dst=target)


def field_shift(
    roi_shape: tuple[int, ...], box: Box, anchor: tuple[tuple[float, float], float], motion: HeadMotion
) -> tuple[int, int]:
    """Where a field's box (ROI pixels) moves with the head: whole pixels, kept inside the ROI."""
    (cx, cy), weight = anchor
    mx, my = motion.shift_at(cx, cy, weight)
    h, w = roi_shape[:2]
    return min(max(round(mx), -box[0]), w - box[2]), min(max(round(my), -box[1]), h - box[3])


def drawn_parts(
    rig: AvatarRig, state: WarpState, mouth: MouthPose, head: HeadPose, motion: HeadMotion, coefs: list[float]
) -> tuple[list[Overlay], list[Blink]]:
    """What is drawn over the warped frame, in order: the mouth interior and the lips' line (overlays
    from the rig alone), then the blinks (coloured from the warped frame itself)."""
    shape = rig.image.shape
    shift = (np.asarray(coefs, dtype=np.float32) @ state.lip_motion).reshape(-1, 2)
    loop = motion.move(rig.lip_points + shift, state.mouth_anchor[1])
    # signed: pressing can push the lower lip's edge past the upper's
    gap = float(np.dot(loop[_LIP_MID_LO] - loop[_LIP_MID_UP], state.face_down))
    overlays: list[Overlay | None] = []
    if gap > 0.6:
        pose = InteriorPose(
            affine=motion.affine(state.mouth_anchor[1]),
            opening=coefs[1],
            round=coefs[3],
            tongue=_clamped(mouth.tongue),
            gap_share=min(gap / max(rig.open_gap_px, 1.0), 1.0),
        )
        overlays.append(interior_overlay(
            shape, loop, rig.mouth_layers, rig.mouth_layer_box, rig.mouth_layer_motion, state.palette, pose,
            rig.mouth_width_px,
        ))  # fmt: skip
    if gap < 3.0:
        overlays.append(lip_line_overlay(shape, loop, state.palette, strength=0.55 * (1.0 - gap / 3.0)))
    blinks = []
    for eye, amount in enumerate((head.blink_left, head.blink_right)):
        if amount > 0.02:
            upper, lower = (motion.move(c, state.eye_anchor[1]) for c in rig.eyelid_points[eye])
            blinks.append(plan_blink(shape, upper, lower, rig.eyelid_colours[eye], _clamped(amount)))
    return [o for o in overlays if o is not None], [b for b in blinks if b is not None]
